package org.internvl4j.cli;

import java.nio.file.Path;
import org.internvl4j.hub.DownloadListener;
import org.internvl4j.hub.ModelLocator;
import picocli.CommandLine.Option;

/**
 * The {@code --model} option shared by the commands that load a model. Use it as a mixin:
 * <pre>
 * &#64;Mixin ModelOption model;
 * ...
 * Path dir = model.resolve();   // a local directory, downloading a hub id on first use
 * </pre>
 * A {@link org.internvl4j.hub.HubException} it throws is printed as one line by {@link Main}.
 */
public final class ModelOption {

    @Option(names = {"-m", "--model"}, required = true, paramLabel = "DIR|OWNER/NAME[@REV]",
            description = "A checkpoint directory, or a Hugging Face id such as OpenGVLab/InternVL2-8B-MPO "
                    + "(downloaded once into the Hugging Face cache; HF_HUB_OFFLINE=1 uses only the cache).")
    public String model;

    /** The model directory, with progress bars on stderr while downloading. */
    public Path resolve() {
        return resolve(TerminalProgress.forStderr());
    }

    public Path resolve(DownloadListener listener) {
        Path dir = ModelLocator.resolve(model, listener);
        if (listener instanceof TerminalProgress p) {
            p.close();
        }
        return dir;
    }
}
