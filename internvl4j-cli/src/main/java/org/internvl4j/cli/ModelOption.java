package org.internvl4j.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.internvl4j.hub.DownloadListener;
import org.internvl4j.hub.HubDownloader;
import org.internvl4j.hub.HubOptions;
import org.internvl4j.hub.RepoId;
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

    /**
     * A folder with the tokenizer files: a local directory as it is; for a hub id, only the tokenizer files
     * and configs are downloaded, not the weights.
     */
    public Path resolveTokenizer() {
        if (model != null && !model.isBlank() && Files.isDirectory(Path.of(model))) return Path.of(model);
        if (model == null || Files.exists(Path.of(model)) || !RepoId.looksLikeId(model) || model.startsWith(".") || model.startsWith("~")) {
            return resolve(DownloadListener.NONE);   // the locator's messages for a file, a missing folder, a bad id
        }
        TerminalProgress progress = TerminalProgress.forStderr();
        try {
            return new HubDownloader(HubOptions.fromEnvironment().withIncludes(TOKENIZER_FILES)).download(RepoId.parse(model), progress).snapshot();
        } finally {
            progress.close();
        }
    }

    static final List<String> TOKENIZER_FILES = List.of("tokenizer.model", "tokenizer.json", "tokenizer_config.json",
            "added_tokens.json", "special_tokens_map.json", "config.json");

    public Path resolve(DownloadListener listener) {
        Path dir = ModelLocator.resolve(model, listener);
        if (listener instanceof TerminalProgress p) {
            p.close();
        }
        return dir;
    }
}
