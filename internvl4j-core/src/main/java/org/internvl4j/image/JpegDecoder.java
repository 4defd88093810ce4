package org.internvl4j.image;

import java.util.stream.IntStream;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * A baseline and progressive Huffman JPEG decoder that gives the same pixels as Pillow 9.4 over libjpeg-turbo
 * 2.1.5 with its default settings: the ISLOW integer IDCT (jidctint.c), "fancy" triangular chroma upsampling
 * (jdsample.c), libjpeg's fixed-point YCbCr->RGB (jdcolor.c) and its colour-space guess from the JFIF/Adobe
 * markers and component ids (jdapimin.c). CMYK/YCCK files go through Pillow's "CMYK;I" inversion and its
 * CMYK->RGB. No EXIF orientation and no ICC profile are applied, as in Pillow.
 *
 * <p>Not supported (clear error): arithmetic coding, lossless and hierarchical JPEG, 12-bit samples, DNL.
 * Progressive files are decoded after all scans; like libjpeg, block smoothing is not needed then because
 * every coefficient is complete.
 */
final class JpegDecoder {

    /** jutils.c jpeg_natural_order, with 16 extra entries so corrupt data cannot index past the block. */
    private static final int[] NATURAL_ORDER = {
        0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5,
        12, 19, 26, 33, 40, 48, 41, 34, 27, 20, 13, 6, 7, 14, 21, 28,
        35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51,
        58, 59, 52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63,
        63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63};

    /** A progressive file rarely has more than about 20 scans; libjpeg-turbo's tools stop at a similar cap. */
    static final int MAX_SCANS = 1000;

    private final byte[] data;
    private final String name;
    private int scans;
    private final long maxPixels;
    private int pos;

    private final int[][] quant = new int[4][];
    private final Huffman[] dcTables = new Huffman[4];
    private final Huffman[] acTables = new Huffman[4];
    private Component[] comps;
    private int width;
    private int height;
    private boolean progressive;
    private int hmax;
    private int vmax;
    private int mcusX;
    private int mcusY;
    private int restartInterval;
    private boolean sawJfif;
    private boolean sawAdobe;
    private int adobeTransform;
    private int eobrun;

    private static final class Component {
        int id;
        int h;
        int v;
        int tq;
        int blocksW;      // ceil(compWidth / 8): width_in_blocks
        int blocksH;
        int paddedBlocksW; // mcusX * h (blocks stored, MCU padding included)
        int paddedBlocksH;
        int width;        // downsampled_width
        int height;       // downsampled_height
        short[] coefs;    // [paddedBlocksH][paddedBlocksW][64], natural order
        int dcPred;
        Huffman dc;
        Huffman ac;
        byte[] plane;     // IDCT output, blocksW*8 wide, blocksH*8 high
    }

    private JpegDecoder(byte[] data, long maxPixels, String name) {
        this.data = data;
        this.maxPixels = maxPixels;
        this.name = name;
    }

    static RgbImage decode(byte[] data, long maxPixels, String name) {
        return new JpegDecoder(data, maxPixels, name).run();
    }

    private ImageException error(String what) {
        return new ImageException("JPEG " + name + ": " + what);
    }

    private int u8() {
        if (pos >= data.length) {
            throw error("truncated: the data ends at byte " + data.length + " inside a marker segment");
        }
        return data[pos++] & 0xFF;
    }

    private int u16() {
        return (u8() << 8) | u8();
    }

    private RgbImage run() {
        if (data.length < 4 || (data[0] & 0xFF) != 0xFF || (data[1] & 0xFF) != 0xD8) {
            throw error("not a JPEG stream (no SOI marker FF D8)");
        }
        pos = 2;
        boolean frameSeen = false;
        boolean scanSeen = false;
        while (true) {
            int marker = nextMarker();
            if (marker < 0) {
                if (scanSeen) {
                    break; // no EOI after complete scans: accept, like a lenient reader
                }
                throw error("truncated: the data ends before any image scan");
            }
            switch (marker) {
                case 0xD8 -> throw error("unexpected second SOI marker at byte " + (pos - 2));
                case 0xD9 -> {
                    if (!scanSeen) {
                        throw error("EOI before any image scan");
                    }
                    return output();
                }
                case 0xC0, 0xC1, 0xC2 -> {
                    if (frameSeen) {
                        throw error("more than one frame header (SOF)");
                    }
                    readFrame(marker == 0xC2);
                    frameSeen = true;
                }
                case 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF -> throw error(
                        "unsupported JPEG process (SOF marker FF " + Integer.toHexString(marker).toUpperCase()
                                + "): only baseline, extended and progressive Huffman JPEG are supported");
                case 0xC4 -> readHuffmanTables();
                case 0xDB -> readQuantTables();
                case 0xDD -> {
                    int len = u16();
                    if (len != 4) {
                        throw error("DRI segment length " + len + ", expected 4");
                    }
                    restartInterval = u16();
                }
                case 0xDA -> {
                    if (!frameSeen) {
                        throw error("scan (SOS) before the frame header (SOF)");
                    }
                    if (++scans > MAX_SCANS) {
                        throw error("more than " + MAX_SCANS + " scans: refusing a file that makes the decoder "
                                + "walk the whole image again and again");
                    }
                    readScan();
                    scanSeen = true;
                }
                case 0xE0 -> readApp0();
                case 0xEE -> readApp14();
                case 0xDC -> throw error("DNL marker (height defined after the scan) is not supported");
                default -> {
                    if (marker >= 0xD0 && marker <= 0xD7) {
                        continue; // stray RST between segments: libjpeg ignores it too
                    }
                    skipSegment();
                }
            }
        }
        return output();
    }

    /** The next marker code after pos, skipping fill bytes; -1 at end of data. */
    private int nextMarker() {
        while (pos < data.length && (data[pos] & 0xFF) != 0xFF) {
            pos++; // garbage between segments: libjpeg warns and skips
        }
        while (pos < data.length && (data[pos] & 0xFF) == 0xFF) {
            pos++;
        }
        if (pos >= data.length) {
            return -1;
        }
        return data[pos++] & 0xFF;
    }

    private void skipSegment() {
        int len = u16();
        if (len < 2) {
            throw error("marker segment length " + len + " at byte " + (pos - 2) + " is below 2");
        }
        if (pos + len - 2 > data.length) {
            throw error("truncated: a marker segment of " + len + " bytes runs past the end of the data");
        }
        pos += len - 2;
    }

    private void readApp0() {
        int start = pos;
        int len = u16();
        if (len - 2 >= 14 && pos + 5 <= data.length && data[pos] == 'J' && data[pos + 1] == 'F' && data[pos + 2] == 'I'
                && data[pos + 3] == 'F' && data[pos + 4] == 0) {
            sawJfif = true;
        }
        pos = start;
        skipSegment();
    }

    private void readApp14() {
        int start = pos;
        int len = u16();
        if (len >= 14 && pos + 12 <= data.length && data[pos] == 'A' && data[pos + 1] == 'd'
                && data[pos + 2] == 'o' && data[pos + 3] == 'b' && data[pos + 4] == 'e') {
            sawAdobe = true;
            adobeTransform = data[pos + 11] & 0xFF;
        }
        pos = start;
        skipSegment();
    }

    private void readQuantTables() {
        int end = segmentEnd();
        while (pos < end) {
            int pq = u8();
            int tq = pq & 15;
            int precision = pq >> 4;
            if (tq > 3 || precision > 1) {
                throw error("DQT table id " + tq + " / precision " + precision + " is invalid");
            }
            int[] table = new int[64];
            for (int k = 0; k < 64; k++) {
                table[NATURAL_ORDER[k]] = precision == 0 ? u8() : u16();
            }
            quant[tq] = table;
        }
        pos = end;
    }

    private int segmentEnd() {
        int len = u16();
        if (len < 2 || pos + len - 2 > data.length) {
            throw error("truncated or invalid marker segment (length " + len + ") at byte " + (pos - 2));
        }
        return pos + len - 2;
    }

    private void readHuffmanTables() {
        int end = segmentEnd();
        while (pos < end) {
            int tcth = u8();
            int tc = tcth >> 4;
            int th = tcth & 15;
            if (tc > 1 || th > 3) {
                throw error("DHT table class " + tc + " / id " + th + " is invalid");
            }
            int[] counts = new int[17];
            int total = 0;
            for (int l = 1; l <= 16; l++) {
                counts[l] = u8();
                total += counts[l];
            }
            if (total > 256) {
                throw error("DHT table has " + total + " codes, at most 256 are allowed");
            }
            int[] values = new int[total];
            for (int i = 0; i < total; i++) {
                values[i] = u8();
            }
            Huffman h = new Huffman(counts, values);
            if (tc == 0) {
                dcTables[th] = h;
            } else {
                acTables[th] = h;
            }
        }
        pos = end;
    }

    private void readFrame(boolean isProgressive) {
        int end = segmentEnd();
        progressive = isProgressive;
        int precision = u8();
        height = u16();
        width = u16();
        int n = u8();
        if (precision != 8) {
            throw error(precision + "-bit samples are not supported, only 8-bit");
        }
        if (width == 0 || height == 0) {
            throw error("image size " + width + "x" + height + " is invalid (height 0 means a DNL marker, "
                    + "which is not supported)");
        }
        ImageDecoder.checkPixels("JPEG", width, height, maxPixels, name);
        if (n != 1 && n != 3 && n != 4) {
            throw error(n + " colour components are not supported (expected 1, 3 or 4)");
        }
        comps = new Component[n];
        for (int i = 0; i < n; i++) {
            Component c = new Component();
            c.id = u8();
            int hv = u8();
            c.h = hv >> 4;
            c.v = hv & 15;
            c.tq = u8();
            if (c.h < 1 || c.h > 4 || c.v < 1 || c.v > 4 || c.tq > 3) {
                throw error("component " + i + " has invalid sampling " + c.h + "x" + c.v + " or table " + c.tq);
            }
            comps[i] = c;
        }
        pos = end;
        hmax = 1;
        vmax = 1;
        for (Component c : comps) {
            hmax = Math.max(hmax, c.h);
            vmax = Math.max(vmax, c.v);
        }
        mcusX = ceilDiv(width, 8 * hmax);
        mcusY = ceilDiv(height, 8 * vmax);
        for (Component c : comps) {
            if (hmax % c.h != 0 || vmax % c.v != 0) {
                throw error("component " + c.id + " has sampling " + c.h + "x" + c.v + ", not an integer fraction of "
                        + hmax + "x" + vmax + " (unsupported, as in libjpeg)");
            }
            c.width = ceilDiv(width * c.h, hmax);
            c.height = ceilDiv(height * c.v, vmax);
            c.blocksW = ceilDiv(c.width, 8);
            c.blocksH = ceilDiv(c.height, 8);
            c.paddedBlocksW = mcusX * c.h;
            c.paddedBlocksH = mcusY * c.v;
            c.coefs = new short[c.paddedBlocksW * c.paddedBlocksH * 64];
        }
    }

    private static int ceilDiv(int a, int b) {
        return (a + b - 1) / b;
    }

    // ------------------------------------------------------------------------------------------------------------
    // entropy-coded data
    // ------------------------------------------------------------------------------------------------------------

    private int bitBuf;
    private int bitCount;
    /** Set once a marker was met inside a scan: from then on zeros are fed, as libjpeg does. */
    private boolean hitMarker;
    /**
     * jdhuff.c insufficient_data: set when a bit past a marker was needed. libjpeg then leaves every further MCU
     * of the segment at zero coefficients (uniform grey) instead of decoding zeros with DC prediction.
     */
    private boolean insufficientData;

    private void resetBits() {
        bitBuf = 0;
        bitCount = 0;
        hitMarker = false;
        insufficientData = false;
    }

    private int readBit() {
        if (bitCount == 0) {
            fillByte();
        }
        bitCount--;
        return (bitBuf >>> bitCount) & 1;
    }

    private void fillByte() {
        int b;
        if (hitMarker) {
            b = 0;
            insufficientData = true;
        } else {
            if (pos >= data.length) {
                throw error("truncated: the data ends inside an image scan");
            }
            b = data[pos] & 0xFF;
            if (b == 0xFF) {
                if (pos + 1 >= data.length) {
                    throw error("truncated: the data ends inside an image scan");
                }
                int next = data[pos + 1] & 0xFF;
                if (next == 0) {
                    pos += 2; // stuffed zero
                } else {
                    hitMarker = true; // a marker: leave it for the marker reader, feed zeros (jdhuff.c)
                    insufficientData = true;
                    b = 0;
                }
            } else {
                pos++;
            }
        }
        bitBuf = ((bitBuf << 8) | b) & 0xFFFF;
        bitCount += 8;
    }

    private int getBits(int n) {
        int v = 0;
        for (int i = 0; i < n; i++) {
            v = (v << 1) | readBit();
        }
        return v;
    }

    /** HUFF_EXTEND: the sign of an n-bit magnitude category. */
    private static int extend(int v, int n) {
        return v < (1 << (n - 1)) ? v + (-1 << n) + 1 : v;
    }

    private int receiveExtend(int s) {
        if (s > 16) {
            throw error("corrupt data: a Huffman table gives magnitude category " + s + " (at most 16)");
        }
        return s == 0 ? 0 : extend(getBits(s), s);
    }

    private int decodeHuffman(Huffman h) {
        int code = 0;
        for (int l = 1; l <= 16; l++) {
            code = (code << 1) | readBit();
            if (code <= h.maxCode[l]) {
                return h.values[h.valPtr[l] + code - h.minCode[l]];
            }
        }
        // jdhuff.c jpeg_huff_decode: no code matched within 16 bits; its loop stops at maxcode[17] after reading
        // a 17th bit, warns "Corrupt JPEG data: bad Huffman code" and returns 0
        readBit();
        return 0;
    }

    /** A Huffman table as canonical code ranges per length (jdhuff.c jpeg_make_d_derived_tbl). */
    private static final class Huffman {
        final int[] maxCode = new int[18];
        final int[] minCode = new int[17];
        final int[] valPtr = new int[17];
        final int[] values;

        Huffman(int[] counts, int[] values) {
            this.values = values;
            int code = 0;
            int k = 0;
            for (int l = 1; l <= 16; l++) {
                valPtr[l] = k;
                minCode[l] = code;
                code += counts[l];
                k += counts[l];
                maxCode[l] = counts[l] > 0 ? code - 1 : -1;
                code <<= 1;
            }
            maxCode[17] = Integer.MAX_VALUE;
        }
    }

    private void readScan() {
        int end = segmentEnd();
        int ns = u8();
        if (ns < 1 || ns > 4) {
            throw error("scan with " + ns + " components, expected 1 to 4");
        }
        Component[] scomps = new Component[ns];
        for (int i = 0; i < ns; i++) {
            int id = u8();
            int t = u8();
            Component found = null;
            for (Component c : comps) {
                if (c.id == id) {
                    found = c;
                }
            }
            if (found == null) {
                throw error("scan names component id " + id + ", which the frame does not have");
            }
            if (t >> 4 > 3 || (t & 15) > 3) {
                throw error("scan gives component " + id + " Huffman tables DC " + (t >> 4) + " / AC " + (t & 15)
                        + ", expected 0 to 3");
            }
            found.dc = dcTables[t >> 4];
            found.ac = acTables[t & 15];
            scomps[i] = found;
        }
        int ss = u8();
        int se = u8();
        int ahal = u8();
        int ah = ahal >> 4;
        int al = ahal & 15;
        pos = end;
        if (progressive) {
            if (ss > se || se > 63 || (ss == 0 && se != 0) || (ss > 0 && ns != 1) || al > 13) {
                throw error("invalid progressive scan parameters Ss=" + ss + " Se=" + se + " Ah=" + ah + " Al=" + al);
            }
        } else {
            ss = 0;
            se = 63;
        }
        for (Component c : scomps) {
            // which tables this scan reads: baseline both; progressive DC-first the DC table, AC scans the AC table
            boolean needDc = !progressive || (ss == 0 && ah == 0);
            boolean needAc = !progressive || ss > 0;
            if ((needDc && c.dc == null) || (needAc && c.ac == null)) {
                throw error("scan of component " + c.id + " uses a Huffman table that was not defined (DHT missing)");
            }
            if (quant[c.tq] == null) {
                throw error("component " + c.id + " uses quantization table " + c.tq + ", which was not defined");
            }
        }
        decodeScan(scomps, ss, se, ah, al);
    }

    private void decodeScan(Component[] scomps, int ss, int se, int ah, int al) {
        resetBits();
        eobrun = 0;
        for (Component c : scomps) {
            c.dcPred = 0;
        }
        int totalMcus;
        int mcusPerRow;
        boolean single = scomps.length == 1;
        if (single) {
            mcusPerRow = scomps[0].blocksW;
            totalMcus = scomps[0].blocksW * scomps[0].blocksH;
        } else {
            mcusPerRow = mcusX;
            totalMcus = mcusX * mcusY;
        }
        int restartsLeft = restartInterval;
        for (int m = 0; m < totalMcus; m++) {
            if (restartInterval > 0) {
                if (restartsLeft == 0) {
                    processRestart(scomps);
                    restartsLeft = restartInterval;
                }
                restartsLeft--;
            }
            if (insufficientData) {
                continue; // out of data in this segment: leave the MCU at zero, as libjpeg does
            }
            int mx = m % mcusPerRow;
            int my = m / mcusPerRow;
            if (single) {
                Component c = scomps[0];
                decodeBlock(c, (my * c.paddedBlocksW + mx) * 64, ss, se, ah, al);
            } else {
                for (Component c : scomps) {
                    for (int by = 0; by < c.v; by++) {
                        for (int bx = 0; bx < c.h; bx++) {
                            int row = my * c.v + by;
                            int col = mx * c.h + bx;
                            decodeBlock(c, (row * c.paddedBlocksW + col) * 64, ss, se, ah, al);
                        }
                    }
                }
            }
        }
        // leave pos at the marker that ends the scan
        if (!hitMarker) {
            while (pos < data.length && !((data[pos] & 0xFF) == 0xFF && pos + 1 < data.length
                    && (data[pos + 1] & 0xFF) != 0 && ((data[pos + 1] & 0xFF) < 0xD0 || (data[pos + 1] & 0xFF) > 0xD7))) {
                pos++;
            }
        }
    }

    /** jdhuff.c process_restart: drop the bit buffer, expect RSTn, reset the DC predictions and EOBRUN. */
    private void processRestart(Component[] scomps) {
        bitBuf = 0;
        bitCount = 0;
        hitMarker = false;
        // skip to the next marker; if it is an RST, consume it (libjpeg resyncs leniently on a wrong number)
        while (pos + 1 < data.length && !((data[pos] & 0xFF) == 0xFF && (data[pos + 1] & 0xFF) != 0)) {
            pos++;
        }
        if (pos + 1 < data.length) {
            int marker = data[pos + 1] & 0xFF;
            if (marker >= 0xD0 && marker <= 0xD7) {
                pos += 2;
                insufficientData = false;
            } else {
                hitMarker = true; // not a restart: the scan is cut short, feed zeros
            }
        } else {
            throw error("truncated: the data ends inside an image scan (restart marker expected)");
        }
        for (Component c : scomps) {
            c.dcPred = 0;
        }
        eobrun = 0;
    }

    private void decodeBlock(Component c, int off, int ss, int se, int ah, int al) {
        short[] b = c.coefs;
        if (!progressive) {
            int s = decodeHuffman(c.dc);
            c.dcPred += receiveExtend(s);
            b[off] = (short) c.dcPred;
            for (int k = 1; k < 64; k++) {
                int rs = decodeHuffman(c.ac);
                int r = rs >> 4;
                s = rs & 15;
                if (s != 0) {
                    k += r;
                    b[off + NATURAL_ORDER[k]] = (short) receiveExtend(s);
                } else {
                    if (r != 15) {
                        break;
                    }
                    k += 15;
                }
            }
            return;
        }
        if (ss == 0) {
            if (ah == 0) {
                int s = decodeHuffman(c.dc);
                c.dcPred += receiveExtend(s);
                b[off] = (short) (c.dcPred << al);
            } else if (readBit() != 0) {
                b[off] |= (short) (1 << al);
            }
            return;
        }
        if (ah == 0) {
            decodeAcFirst(c, b, off, ss, se, al);
        } else {
            decodeAcRefine(c, b, off, ss, se, al);
        }
    }

    /** jdphuff.c decode_mcu_AC_first. */
    private void decodeAcFirst(Component c, short[] b, int off, int ss, int se, int al) {
        if (eobrun > 0) {
            eobrun--;
            return;
        }
        for (int k = ss; k <= se; k++) {
            int rs = decodeHuffman(c.ac);
            int r = rs >> 4;
            int s = rs & 15;
            if (s != 0) {
                k += r;
                b[off + NATURAL_ORDER[k]] = (short) (receiveExtend(s) * (1 << al));
            } else if (r == 15) {
                k += 15;
            } else {
                eobrun = 1 << r;
                if (r != 0) {
                    eobrun += getBits(r);
                }
                eobrun--;
                break;
            }
        }
    }

    /** jdphuff.c decode_mcu_AC_refine. */
    private void decodeAcRefine(Component c, short[] b, int off, int ss, int se, int al) {
        int p1 = 1 << al;
        int m1 = -1 << al;
        int k = ss;
        if (eobrun == 0) {
            for (; k <= se; k++) {
                int rs = decodeHuffman(c.ac);
                int r = rs >> 4;
                int s = rs & 15;
                if (s != 0) {
                    s = readBit() != 0 ? p1 : m1;
                } else if (r != 15) {
                    eobrun = 1 << r;
                    if (r != 0) {
                        eobrun += getBits(r);
                    }
                    break;
                }
                do {
                    int z = off + NATURAL_ORDER[k];
                    if (b[z] != 0) {
                        if (readBit() != 0 && (b[z] & p1) == 0) {
                            b[z] += (short) (b[z] >= 0 ? p1 : m1);
                        }
                    } else {
                        if (--r < 0) {
                            break;
                        }
                    }
                    k++;
                } while (k <= se);
                if (s != 0) {
                    b[off + NATURAL_ORDER[k]] = (short) s;
                }
            }
        }
        if (eobrun > 0) {
            for (; k <= se; k++) {
                int z = off + NATURAL_ORDER[k];
                if (b[z] != 0 && readBit() != 0 && (b[z] & p1) == 0) {
                    b[z] += (short) (b[z] >= 0 ? p1 : m1);
                }
            }
            eobrun--;
        }
    }

    // ------------------------------------------------------------------------------------------------------------
    // IDCT, upsampling, colour conversion
    // ------------------------------------------------------------------------------------------------------------

    private RgbImage output() {
        int n = comps.length;
        for (Component c : comps) {
            if (quant[c.tq] == null) {
                throw error("component " + c.id + " uses quantization table " + c.tq + ", which was not defined");
            }
            idctComponent(c);
        }
        // Upsample each row of every component to full width (jdsample.c), then convert it to RGB at once: rows
        // are independent, so blocks of rows run in parallel without full-size intermediate planes.
        byte[] rgb = new byte[Math.multiplyExact(Math.multiplyExact(width, height), 3)];
        int mode = n == 1 ? 0 : n == 3 ? (colorSpaceIsYcc3() ? 1 : 2) : 3;
        boolean ycck = sawAdobe && adobeTransform != 0;
        int rowsPerTask = 16;
        IntStream.range(0, (height + rowsPerTask - 1) / rowsPerTask).parallel().forEach(task -> {
            byte[][] rows = new byte[n][width];
            byte[] scratch = new byte[2 * Math.max(width, 8) + 16];
            int y1 = Math.min(height, (task + 1) * rowsPerTask);
            for (int y = task * rowsPerTask; y < y1; y++) {
                for (int i = 0; i < n; i++) {
                    upsampleRow(comps[i], y, rows[i], scratch);
                }
                int o = y * width * 3;
                switch (mode) {
                    case 0 -> {
                        for (int x = 0; x < width; x++, o += 3) {
                            rgb[o] = rgb[o + 1] = rgb[o + 2] = rows[0][x];
                        }
                    }
                    case 1 -> yccToRgb(rows[0], rows[1], rows[2], width, rgb, o);
                    case 2 -> {
                        for (int x = 0; x < width; x++, o += 3) {
                            rgb[o] = rows[0][x];
                            rgb[o + 1] = rows[1][x];
                            rgb[o + 2] = rows[2][x];
                        }
                    }
                    default -> cmykToRgb(rows, width, ycck, rgb, o);
                }
            }
        });
        return new RgbImage(width, height, rgb);
    }

    /** jdapimin.c default_decompress_parms for 3 components: is the stored colour space YCbCr? */
    private boolean colorSpaceIsYcc3() {
        if (sawJfif) {
            return true;
        }
        if (sawAdobe) {
            return adobeTransform != 0;
        }
        return !(comps[0].id == 82 && comps[1].id == 71 && comps[2].id == 66); // 'R','G','B' ids mean RGB
    }

    private static final int SCALEBITS = 16;
    private static final int ONE_HALF = 1 << (SCALEBITS - 1);
    private static final int[] CR_R = new int[256];
    private static final int[] CB_B = new int[256];
    private static final int[] CR_G = new int[256];
    private static final int[] CB_G = new int[256];

    static {
        // jdcolor.c build_ycc_rgb_table
        for (int i = 0, x = -128; i <= 255; i++, x++) {
            CR_R[i] = (fix(1.40200) * x + ONE_HALF) >> SCALEBITS;
            CB_B[i] = (fix(1.77200) * x + ONE_HALF) >> SCALEBITS;
            CR_G[i] = -fix(0.71414) * x;
            CB_G[i] = -fix(0.34414) * x + ONE_HALF;
        }
    }

    private static int fix(double x) {
        return (int) (x * (1L << SCALEBITS) + 0.5);
    }

    private static int clamp(int v) {
        return v < 0 ? 0 : (v > 255 ? 255 : v);
    }

    private static final VectorSpecies<Integer> INTS = IntVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Byte> BYTES = VectorSpecies.of(byte.class,
            VectorShape.forBitSize(Math.max(64, INTS.length() * 8)));
    private static final boolean VECTOR_COLOR = INTS.length() >= 4 && BYTES.length() == INTS.length();

    /**
     * jdcolor.c ycc_rgb_convert for one row of n samples, written at rgb[o...]. The vector loop evaluates the
     * same fixed-point expressions that build_ycc_rgb_table stores in its tables, so the bytes are the same.
     */
    private static void yccToRgb(byte[] y, byte[] cb, byte[] cr, int n, byte[] rgb, int o) {
        int p = 0;
        if (VECTOR_COLOR) {
            int lanes = INTS.length();
            int[] rr = new int[lanes];
            int[] gg = new int[lanes];
            int[] bb = new int[lanes];
            for (; p <= n - lanes; p += lanes) {
                IntVector yy = widen(y, p);
                IntVector b = widen(cb, p).sub(128);
                IntVector r = widen(cr, p).sub(128);
                yy.add(r.mul(fix(1.40200)).add(ONE_HALF).lanewise(VectorOperators.ASHR, SCALEBITS))
                        .max(0).min(255).intoArray(rr, 0);
                yy.add(b.mul(-fix(0.34414)).add(ONE_HALF).add(r.mul(-fix(0.71414)))
                        .lanewise(VectorOperators.ASHR, SCALEBITS)).max(0).min(255).intoArray(gg, 0);
                yy.add(b.mul(fix(1.77200)).add(ONE_HALF).lanewise(VectorOperators.ASHR, SCALEBITS))
                        .max(0).min(255).intoArray(bb, 0);
                for (int k = 0; k < lanes; k++, o += 3) {
                    rgb[o] = (byte) rr[k];
                    rgb[o + 1] = (byte) gg[k];
                    rgb[o + 2] = (byte) bb[k];
                }
            }
        }
        for (; p < n; p++, o += 3) {
            int yy = y[p] & 0xFF;
            int b = cb[p] & 0xFF;
            int r = cr[p] & 0xFF;
            rgb[o] = (byte) clamp(yy + CR_R[r]);
            rgb[o + 1] = (byte) clamp(yy + ((CB_G[b] + CR_G[r]) >> SCALEBITS));
            rgb[o + 2] = (byte) clamp(yy + CB_B[b]);
        }
    }

    /**
     * 4 components: libjpeg gives CMYK (converting YCCK with jdcolor.c ycck_cmyk_convert when the Adobe transform
     * says so), Pillow reads it as "CMYK;I" (inverted, Adobe's convention) and its Convert.c cmyk2rgb gives RGB.
     */
    private static void cmykToRgb(byte[][] f, int n, boolean ycck, byte[] rgb, int o) {
        for (int p = 0; p < n; p++) {
            int c0 = f[0][p] & 0xFF;
            int c1 = f[1][p] & 0xFF;
            int c2 = f[2][p] & 0xFF;
            int k = f[3][p] & 0xFF;
            int c;
            int m;
            int y;
            if (ycck) {
                c = clamp(255 - (c0 + CR_R[c2]));
                m = clamp(255 - (c0 + ((CB_G[c1] + CR_G[c2]) >> SCALEBITS)));
                y = clamp(255 - (c0 + CB_B[c1]));
            } else {
                c = c0;
                m = c1;
                y = c2;
            }
            // CMYK;I unpacking inverts every channel
            c = 255 - c;
            m = 255 - m;
            y = 255 - y;
            k = 255 - k;
            int nk = 255 - k;
            rgb[o + p * 3] = (byte) clamp(nk - mulDiv255(c, nk));
            rgb[o + p * 3 + 1] = (byte) clamp(nk - mulDiv255(m, nk));
            rgb[o + p * 3 + 2] = (byte) clamp(nk - mulDiv255(y, nk));
        }
    }

    private static IntVector widen(byte[] a, int p) {
        return (IntVector) ByteVector.fromArray(BYTES, a, p).convertShape(VectorOperators.ZERO_EXTEND_B2I, INTS, 0);
    }

    /** Pillow's MULDIV255(a, b): a * b / 255, rounded. */
    private static int mulDiv255(int a, int b) {
        int t = a * b + 128;
        return ((t >> 8) + t) >> 8;
    }

    /** Row y of one component at full width, upsampled as jdsample.c does with fancy upsampling. */
    private void upsampleRow(Component c, int y, byte[] out, byte[] scratch) {
        int stride = c.blocksW * 8;
        byte[] in = c.plane;
        int hf = hmax / c.h;
        int vf = vmax / c.v;
        if (hf == 1 && vf == 1) {
            System.arraycopy(in, y * stride, out, 0, width);
        } else if (hf == 2 && vf == 1 && c.width > 2) {
            h2v1Fancy(in, y * stride, c.width, scratch);
            System.arraycopy(scratch, 0, out, 0, width);
        } else if (hf == 1 && vf == 2) {
            int inRow = y >> 1;
            int near = inRow * stride;
            int other = clampRow(c, (y & 1) == 0 ? inRow - 1 : inRow + 1) * stride;
            int bias = (y & 1) == 0 ? 1 : 2;
            for (int x = 0; x < width; x++) {
                int sum = (in[near + x] & 0xFF) * 3 + (in[other + x] & 0xFF);
                out[x] = (byte) ((sum + bias) >> 2);
            }
        } else if (hf == 2 && vf == 2 && c.width > 2) {
            int inRow = y >> 1;
            int other = clampRow(c, (y & 1) == 0 ? inRow - 1 : inRow + 1);
            h2v2Fancy(in, inRow * stride, other * stride, c.width, scratch);
            System.arraycopy(scratch, 0, out, 0, width);
        } else {
            // jdsample.c int_upsample / h2v1_upsample / h2v2_upsample: plain replication
            int src = (y / vf) * stride;
            for (int x = 0; x < width; x++) {
                out[x] = in[src + x / hf];
            }
        }
    }

    /** Context row for vertical fancy upsampling: jdmainct.c repeats the first and last real rows. */
    private static int clampRow(Component c, int row) {
        return row < 0 ? 0 : Math.min(row, c.height - 1);
    }

    /** jdsample.c h2v1_fancy_upsample: 3/4 nearer + 1/4 further, alternating rounding. */
    private static void h2v1Fancy(byte[] in, int p, int w, byte[] out) {
        int o = 0;
        int invalue = in[p] & 0xFF;
        out[o++] = (byte) invalue;
        out[o++] = (byte) ((invalue * 3 + (in[p + 1] & 0xFF) + 2) >> 2);
        for (int x = 1; x < w - 1; x++) {
            invalue = (in[p + x] & 0xFF) * 3;
            out[o++] = (byte) ((invalue + (in[p + x - 1] & 0xFF) + 1) >> 2);
            out[o++] = (byte) ((invalue + (in[p + x + 1] & 0xFF) + 2) >> 2);
        }
        invalue = in[p + w - 1] & 0xFF;
        out[o++] = (byte) ((invalue * 3 + (in[p + w - 2] & 0xFF) + 1) >> 2);
        out[o] = (byte) invalue;
    }

    /** jdsample.c h2v2_fancy_upsample for one output row: near row weighted 3, far row 1, then across. */
    private static void h2v2Fancy(byte[] in, int near, int far, int w, byte[] out) {
        int o = 0;
        int thiscolsum = (in[near] & 0xFF) * 3 + (in[far] & 0xFF);
        int nextcolsum = (in[near + 1] & 0xFF) * 3 + (in[far + 1] & 0xFF);
        out[o++] = (byte) ((thiscolsum * 4 + 8) >> 4);
        out[o++] = (byte) ((thiscolsum * 3 + nextcolsum + 7) >> 4);
        int lastcolsum = thiscolsum;
        thiscolsum = nextcolsum;
        for (int x = 2; x < w; x++) {
            nextcolsum = (in[near + x] & 0xFF) * 3 + (in[far + x] & 0xFF);
            out[o++] = (byte) ((thiscolsum * 3 + lastcolsum + 8) >> 4);
            out[o++] = (byte) ((thiscolsum * 3 + nextcolsum + 7) >> 4);
            lastcolsum = thiscolsum;
            thiscolsum = nextcolsum;
        }
        out[o++] = (byte) ((thiscolsum * 3 + lastcolsum + 8) >> 4);
        out[o] = (byte) ((thiscolsum * 4 + 7) >> 4);
    }

    private void idctComponent(Component c) {
        int stride = c.blocksW * 8;
        c.plane = new byte[stride * c.blocksH * 8];
        int[] q = quant[c.tq];
        IntStream.range(0, c.blocksH).parallel().forEach(by -> {
            int[] ws = new int[64];
            for (int bx = 0; bx < c.blocksW; bx++) {
                idctIslow(c.coefs, (by * c.paddedBlocksW + bx) * 64, q, ws, c.plane, by * 8 * stride + bx * 8, stride);
            }
        });
        c.coefs = null;
    }

    // jidctint.c constants (CONST_BITS = 13)
    private static final int CONST_BITS = 13;
    private static final int PASS1_BITS = 2;
    private static final int FIX_0_298631336 = 2446;
    private static final int FIX_0_390180644 = 3196;
    private static final int FIX_0_541196100 = 4433;
    private static final int FIX_0_765366865 = 6270;
    private static final int FIX_0_899976223 = 7373;
    private static final int FIX_1_175875602 = 9633;
    private static final int FIX_1_501321110 = 12299;
    private static final int FIX_1_847759065 = 15137;
    private static final int FIX_1_961570560 = 16069;
    private static final int FIX_2_053119869 = 16819;
    private static final int FIX_2_562915447 = 20995;
    private static final int FIX_3_072711026 = 25172;

    /** jidctint.c range limit after the IDCT: index (x & 1023) of the post-IDCT table (x + 128, wrapped). */
    private static final byte[] RANGE_LIMIT = new byte[1024];

    static {
        for (int m = 0; m < 1024; m++) {
            int v;
            if (m < 128) {
                v = m + 128;
            } else if (m < 512) {
                v = 255;
            } else if (m < 896) {
                v = 0;
            } else {
                v = m - 896;
            }
            RANGE_LIMIT[m] = (byte) v;
        }
    }

    private static int descale(int x, int n) {
        return (x + (1 << (n - 1))) >> n;
    }

    private static void fill8(byte[] out, int o, byte v) {
        out[o] = v;
        out[o + 1] = v;
        out[o + 2] = v;
        out[o + 3] = v;
        out[o + 4] = v;
        out[o + 5] = v;
        out[o + 6] = v;
        out[o + 7] = v;
    }

    /** jidctint.c jpeg_idct_islow (the libjpeg 6b / libjpeg-turbo algorithm), dequantizing on the way in. */
    private static void idctIslow(short[] coef, int off, int[] q, int[] ws, byte[] out, int outOff, int stride) {
        // A block with only a DC term: both passes take their zero shortcuts, giving one value everywhere.
        boolean acZero = true;
        for (int k = 1; k < 64; k++) {
            if (coef[off + k] != 0) {
                acZero = false;
                break;
            }
        }
        if (acZero) {
            byte v = RANGE_LIMIT[descale((coef[off] * q[0]) << PASS1_BITS, PASS1_BITS + 3) & 1023];
            for (int r = 0, o = outOff; r < 8; r++, o += stride) {
                fill8(out, o, v);
            }
            return;
        }
        // Pass 1: columns from input, store into work array.
        for (int col = 0; col < 8; col++) {
            int i = off + col;
            if (coef[i + 8] == 0 && coef[i + 16] == 0 && coef[i + 24] == 0 && coef[i + 32] == 0
                    && coef[i + 40] == 0 && coef[i + 48] == 0 && coef[i + 56] == 0) {
                int dcval = (coef[i] * q[col]) << PASS1_BITS;
                for (int r = 0; r < 8; r++) {
                    ws[r * 8 + col] = dcval;
                }
                continue;
            }
            int z2 = coef[i + 16] * q[col + 16];
            int z3 = coef[i + 48] * q[col + 48];
            int z1 = (z2 + z3) * FIX_0_541196100;
            int tmp2 = z1 + z3 * -FIX_1_847759065;
            int tmp3 = z1 + z2 * FIX_0_765366865;
            z2 = coef[i] * q[col];
            z3 = coef[i + 32] * q[col + 32];
            int tmp0 = (z2 + z3) << CONST_BITS;
            int tmp1 = (z2 - z3) << CONST_BITS;
            int tmp10 = tmp0 + tmp3;
            int tmp13 = tmp0 - tmp3;
            int tmp11 = tmp1 + tmp2;
            int tmp12 = tmp1 - tmp2;

            tmp0 = coef[i + 56] * q[col + 56];
            tmp1 = coef[i + 40] * q[col + 40];
            tmp2 = coef[i + 24] * q[col + 24];
            tmp3 = coef[i + 8] * q[col + 8];
            z1 = tmp0 + tmp3;
            z2 = tmp1 + tmp2;
            z3 = tmp0 + tmp2;
            int z4 = tmp1 + tmp3;
            int z5 = (z3 + z4) * FIX_1_175875602;
            tmp0 = tmp0 * FIX_0_298631336;
            tmp1 = tmp1 * FIX_2_053119869;
            tmp2 = tmp2 * FIX_3_072711026;
            tmp3 = tmp3 * FIX_1_501321110;
            z1 = z1 * -FIX_0_899976223;
            z2 = z2 * -FIX_2_562915447;
            z3 = z3 * -FIX_1_961570560;
            z4 = z4 * -FIX_0_390180644;
            z3 += z5;
            z4 += z5;
            tmp0 += z1 + z3;
            tmp1 += z2 + z4;
            tmp2 += z2 + z3;
            tmp3 += z1 + z4;

            int sh = CONST_BITS - PASS1_BITS;
            ws[col] = descale(tmp10 + tmp3, sh);
            ws[56 + col] = descale(tmp10 - tmp3, sh);
            ws[8 + col] = descale(tmp11 + tmp2, sh);
            ws[48 + col] = descale(tmp11 - tmp2, sh);
            ws[16 + col] = descale(tmp12 + tmp1, sh);
            ws[40 + col] = descale(tmp12 - tmp1, sh);
            ws[24 + col] = descale(tmp13 + tmp0, sh);
            ws[32 + col] = descale(tmp13 - tmp0, sh);
        }
        // Pass 2: rows from work array, store into output.
        int sh = CONST_BITS + PASS1_BITS + 3;
        for (int row = 0; row < 8; row++) {
            int w = row * 8;
            int o = outOff + row * stride;
            if (ws[w + 1] == 0 && ws[w + 2] == 0 && ws[w + 3] == 0 && ws[w + 4] == 0 && ws[w + 5] == 0
                    && ws[w + 6] == 0 && ws[w + 7] == 0) {
                fill8(out, o, RANGE_LIMIT[descale(ws[w], PASS1_BITS + 3) & 1023]);
                continue;
            }
            int z2 = ws[w + 2];
            int z3 = ws[w + 6];
            int z1 = (z2 + z3) * FIX_0_541196100;
            int tmp2 = z1 + z3 * -FIX_1_847759065;
            int tmp3 = z1 + z2 * FIX_0_765366865;
            int tmp0 = (ws[w] + ws[w + 4]) << CONST_BITS;
            int tmp1 = (ws[w] - ws[w + 4]) << CONST_BITS;
            int tmp10 = tmp0 + tmp3;
            int tmp13 = tmp0 - tmp3;
            int tmp11 = tmp1 + tmp2;
            int tmp12 = tmp1 - tmp2;

            tmp0 = ws[w + 7];
            tmp1 = ws[w + 5];
            tmp2 = ws[w + 3];
            tmp3 = ws[w + 1];
            z1 = tmp0 + tmp3;
            z2 = tmp1 + tmp2;
            z3 = tmp0 + tmp2;
            int z4 = tmp1 + tmp3;
            int z5 = (z3 + z4) * FIX_1_175875602;
            tmp0 = tmp0 * FIX_0_298631336;
            tmp1 = tmp1 * FIX_2_053119869;
            tmp2 = tmp2 * FIX_3_072711026;
            tmp3 = tmp3 * FIX_1_501321110;
            z1 = z1 * -FIX_0_899976223;
            z2 = z2 * -FIX_2_562915447;
            z3 = z3 * -FIX_1_961570560;
            z4 = z4 * -FIX_0_390180644;
            z3 += z5;
            z4 += z5;
            tmp0 += z1 + z3;
            tmp1 += z2 + z4;
            tmp2 += z2 + z3;
            tmp3 += z1 + z4;

            out[o] = RANGE_LIMIT[descale(tmp10 + tmp3, sh) & 1023];
            out[o + 7] = RANGE_LIMIT[descale(tmp10 - tmp3, sh) & 1023];
            out[o + 1] = RANGE_LIMIT[descale(tmp11 + tmp2, sh) & 1023];
            out[o + 6] = RANGE_LIMIT[descale(tmp11 - tmp2, sh) & 1023];
            out[o + 2] = RANGE_LIMIT[descale(tmp12 + tmp1, sh) & 1023];
            out[o + 5] = RANGE_LIMIT[descale(tmp12 - tmp1, sh) & 1023];
            out[o + 3] = RANGE_LIMIT[descale(tmp13 + tmp0, sh) & 1023];
            out[o + 4] = RANGE_LIMIT[descale(tmp13 - tmp0, sh) & 1023];
        }
    }
}
