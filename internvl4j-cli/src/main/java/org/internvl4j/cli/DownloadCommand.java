package org.internvl4j.cli;

import java.net.URI;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.internvl4j.hub.DownloadListener;
import org.internvl4j.hub.DownloadResult;
import org.internvl4j.hub.HubDownloader;
import org.internvl4j.hub.HubException;
import org.internvl4j.hub.HubOptions;
import org.internvl4j.hub.RepoId;
import org.internvl4j.hub.Sizes;
import org.internvl4j.hub.Source;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code internvl download owner/name}: fetches a checkpoint into the Hugging Face cache. */
@Command(
        name = "download",
        header = "Downloads a checkpoint into the Hugging Face cache.",
        mixinStandardHelpOptions = true,
        description = {
            "Downloads the files inference needs (config, safetensors shards and index, tokenizer files) "
                    + "into the Hugging Face cache, shared with Python's huggingface_hub. Resumes partial "
                    + "downloads and verifies every file. Prints the snapshot folder on stdout.",
            "Environment: HF_ENDPOINT (mirror), HF_TOKEN, HF_HUB_OFFLINE, HF_HOME / HF_HUB_CACHE, "
                    + "HTTPS_PROXY / NO_PROXY; for ModelScope MODELSCOPE_ENDPOINT, MODELSCOPE_API_TOKEN, MODELSCOPE_CACHE."
        })
public final class DownloadCommand implements Callable<Integer> {

    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Parameters(index = "0", paramLabel = "OWNER/NAME[@REV]", description = "The repository, e.g. OpenGVLab/InternVL2-8B-MPO.")
    String repo;

    @Option(names = "--revision", paramLabel = "REV", description = "Branch, tag or commit (default: main; master on ModelScope).")
    String revision;

    @Option(names = "--include", paramLabel = "PATTERN",
            description = "Only files matching this glob (repeatable; replaces the default selection). '*' downloads everything.")
    List<String> includes;

    @Option(names = "--source", paramLabel = "SOURCE", defaultValue = "huggingface",
            description = "Where to download from: huggingface (default) or modelscope.")
    String source;

    @Option(names = "--endpoint", paramLabel = "URL", description = "Hub or mirror URL (default: HF_ENDPOINT or https://huggingface.co).")
    URI endpoint;

    @Option(names = "--cache-dir", paramLabel = "DIR", description = "Hub cache folder (default: HF_HUB_CACHE or $HF_HOME/hub).")
    Path cacheDir;

    @Option(names = "--parallel", paramLabel = "N", defaultValue = "4", description = "Files fetched at once (default: ${DEFAULT-VALUE}).")
    int parallel;

    @Option(names = "--offline", description = "Use only the cache, like HF_HUB_OFFLINE=1.")
    boolean offline;

    @Option(names = {"-q", "--quiet"}, description = "No progress output; only the snapshot folder and errors.")
    boolean quiet;

    /** The environment the options come from; tests replace it. */
    Map<String, String> env = System.getenv();

    @Override
    public Integer call() {
        var err = spec.commandLine().getErr();
        var out = spec.commandLine().getOut();
        TerminalProgress progress = null;
        try {
            RepoId id = RepoId.parse(repo);
            if (revision != null) {
                if (id.revision() != null && !id.revision().equals(revision)) {
                    throw new HubException(HubException.Kind.INVALID_ID,
                            "two revisions given: '" + id.revision() + "' in " + repo + " and --revision " + revision);
                }
                id = id.withRevision(revision);
            }
            HubOptions options = HubOptions.forSource(Source.parse(source), env).withParallelism(parallel);
            if (endpoint != null) {
                options = options.withEndpoint(endpoint);
            }
            if (cacheDir != null) {
                options = options.withCacheRoot(cacheDir);
            }
            if (offline) {
                options = options.withOffline(true);
            }
            if (includes != null && !includes.isEmpty()) {
                options = options.withIncludes(includes);
            }
            DownloadListener listener = DownloadListener.NONE;
            if (!quiet) {
                progress = new TerminalProgress(err, TerminalProgress.stderrIsTerminal());
                listener = progress;
            }
            DownloadResult r = new HubDownloader(options).download(id, listener);
            if (progress != null) {
                progress.close();
            }
            if (!quiet) {
                err.println(r.fromCache()
                        ? "cached: " + r.files() + " files, " + Sizes.human(r.totalBytes())
                        : "ready: " + r.files() + " files, " + Sizes.human(r.totalBytes())
                                + " (" + Sizes.human(r.downloadedBytes()) + " downloaded now)");
                err.flush();
            }
            out.println(r.snapshot());
            out.flush();
            return 0;
        } catch (HubException e) {
            if (progress != null) {
                progress.close();
            }
            err.println("internvl download: " + e.getMessage());
            err.flush();
            return e.kind() == HubException.Kind.INVALID_ID ? 2 : 1;
        } catch (IllegalArgumentException e) {
            err.println("internvl download: " + e.getMessage());
            err.flush();
            return 2;
        }
    }
}
