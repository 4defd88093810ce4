package org.internvl4j.server;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.geom.Path2D;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.function.ToDoubleFunction;
import javax.imageio.ImageIO;

/** The soak's plot with Java2D: one panel each for resident memory (and heap after GC), threads and open files. */
final class SoakPlot {
    private static final int W = 1000, PANEL_H = 230, LEFT = 80, RIGHT = 30, TOP = 50, GAP = 40;

    private SoakPlot() {
    }

    static void write(Path png, List<ServerSoak.Sample> samples, double warmupSeconds, String title) throws IOException {
        int h = TOP + 3 * PANEL_H + 2 * GAP + 50;
        BufferedImage img = new BufferedImage(W, h, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, W, h);
        g.setColor(Color.BLACK);
        g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 15));
        g.drawString(title, LEFT, 28);
        double tMax = samples.isEmpty() ? 1 : Math.max(1, samples.getLast().seconds());
        panel(g, samples, 0, tMax, warmupSeconds, "resident memory (MiB)", new Series[]{
                new Series("RSS", new Color(0x1f77b4), ServerSoak.Sample::rssMib),
                new Series("heap after GC", new Color(0x2ca02c), ServerSoak.Sample::heapAfterGcMib)});
        panel(g, samples, 1, tMax, warmupSeconds, "threads", new Series[]{
                new Series("threads", new Color(0xd62728), s -> s.threads())});
        panel(g, samples, 2, tMax, warmupSeconds, "open files", new Series[]{
                new Series("fds", new Color(0x9467bd), s -> s.fds())});
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 13));
        g.setColor(Color.BLACK);
        g.drawString("minutes since start (shaded: warm-up; samples every 10 s)", LEFT + 250, h - 12);
        g.dispose();
        ImageIO.write(img, "png", png.toFile());
    }

    private record Series(String name, Color color, ToDoubleFunction<ServerSoak.Sample> value) {
    }

    private static void panel(Graphics2D g, List<ServerSoak.Sample> samples, int index, double tMax, double warmup, String label,
                              Series[] series) {
        int y0 = TOP + index * (PANEL_H + GAP), x0 = LEFT, pw = W - LEFT - RIGHT, ph = PANEL_H;
        double max = 0;
        for (Series s : series) {
            for (ServerSoak.Sample p : samples) {
                double v = s.value().applyAsDouble(p);
                if (!Double.isNaN(v)) max = Math.max(max, v);
            }
        }
        double top = niceCeiling(max * 1.15);
        g.setColor(new Color(0xeeeeee));
        g.fillRect(x0, y0, (int) (pw * Math.min(1, warmup / tMax)), ph);
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
        for (int i = 0; i <= 4; i++) {
            int y = y0 + ph - i * ph / 4;
            g.setColor(new Color(0xcccccc));
            g.drawLine(x0, y, x0 + pw, y);
            g.setColor(Color.DARK_GRAY);
            String t = ServerSoak.fmt(top * i / 4);
            g.drawString(t, x0 - 8 - g.getFontMetrics().stringWidth(t), y + 4);
        }
        double stepMin = tMax / 60 > 20 ? 5 : 1;
        for (double m = 0; m <= tMax / 60 + 1e-9; m += stepMin) {
            int x = x0 + (int) (pw * m * 60 / tMax);
            g.setColor(new Color(0xdddddd));
            g.drawLine(x, y0, x, y0 + ph);
            g.setColor(Color.DARK_GRAY);
            String t = ServerSoak.fmt(m);
            g.drawString(t, x - g.getFontMetrics().stringWidth(t) / 2, y0 + ph + 15);
        }
        g.setColor(Color.BLACK);
        g.drawRect(x0, y0, pw, ph);
        g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 13));
        g.drawString(label, x0 + 8, y0 + 16);
        int legendX = x0 + pw - 10;
        for (int k = series.length - 1; k >= 0; k--) {
            Series s = series[k];
            Path2D.Double line = new Path2D.Double();
            boolean started = false;
            for (ServerSoak.Sample p : samples) {
                double v = s.value().applyAsDouble(p);
                if (Double.isNaN(v)) continue;
                double x = x0 + pw * p.seconds() / tMax, y = y0 + ph - ph * v / top;
                if (started) line.lineTo(x, y);
                else line.moveTo(x, y);
                started = true;
            }
            g.setColor(s.color());
            g.setStroke(new BasicStroke(2f));
            g.draw(line);
            g.setStroke(new BasicStroke(1f));
            g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
            int tw = g.getFontMetrics().stringWidth(s.name());
            legendX -= tw;
            g.drawString(s.name(), legendX, y0 + 16);
            legendX -= 16;
        }
    }

    /** 1, 2, 4, 6 or 8 times a power of ten at or above v (quarters of it make readable ticks). */
    static double niceCeiling(double v) {
        if (!(v > 0)) return 1;
        double p = Math.pow(10, Math.floor(Math.log10(v)));
        for (double m : new double[]{1, 2, 4, 6, 8, 10}) if (m * p >= v) return m * p;
        return 10 * p;
    }
}
