package org.internvl4j.cli;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import org.internvl4j.server.OpenAiServer;
import org.internvl4j.server.ServerOptions;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code internvl serve}: the OpenAI-compatible server (LMDeploy's {@code api_server} for this project). */
@Command(name = "serve", mixinStandardHelpOptions = true,
        header = "Serves a model over an OpenAI-compatible HTTP API.",
        description = {"Serves the model over an OpenAI-compatible HTTP API (/v1/chat/completions, /v1/completions, "
                + "/v1/models, /health, /metrics) with a chat page at /.",
            "Many users are served at once by continuous batching. Binds to 127.0.0.1 unless --host says otherwise."})
public final class ServeCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    ModelOption model;

    @Mixin
    QuantizeOption quantize;

    @Option(names = "--host", paramLabel = "ADDRESS", defaultValue = ServerOptions.DEFAULT_HOST, description = "Address to bind (default: ${DEFAULT-VALUE}).")
    String host;

    @Option(names = "--port", paramLabel = "N", defaultValue = "23333", description = "TCP port (default: ${DEFAULT-VALUE}; 0 picks a free one).")
    int port;

    @Option(names = "--api-key", paramLabel = "KEY", description = "Accept this bearer key on /v1/* (repeat for several). Without one, no key is needed.")
    List<String> apiKeys = new ArrayList<>();

    @Option(names = "--served-model-name", paramLabel = "NAME", description = "The model id clients use (default: the model directory's name).")
    String servedModelName;

    @Option(names = "--max-batch", paramLabel = "N", defaultValue = "16", description = "Sequences decoded together at most (default: ${DEFAULT-VALUE}).")
    int maxBatch;

    @Option(names = "--session-len", paramLabel = "N", defaultValue = "8192", description = "Prompt + completion tokens of one request at most (default: ${DEFAULT-VALUE}).")
    int sessionLen;

    @Option(names = "--kv-cache-gib", paramLabel = "GIB", description = "KV cache budget in GiB for all sequences and the prefix cache;"
            + " the server refuses to start if the heap cannot hold it (default: 4, or what the heap holds if less).")
    Double kvCacheGib;

    @Option(names = "--max-num", paramLabel = "N", defaultValue = "12", description = "Tiles per image at most (default: ${DEFAULT-VALUE}).")
    int maxNum;

    @Option(names = "--allow-remote-images", description = "Fetch http(s) image URLs (never private, loopback or link-local addresses; no redirects).")
    boolean allowRemoteImages;

    @Option(names = "--max-waiting", paramLabel = "N", defaultValue = "64", description = "Requests queued beyond the batch; more get 429 (default: ${DEFAULT-VALUE}).")
    int maxWaiting;

    @Option(names = "--request-timeout", defaultValue = "0", paramLabel = "SECONDS", description = "End requests running longer (0: no limit).")
    long requestTimeoutSeconds;

    @Option(names = "--max-body-mib", paramLabel = "MIB", defaultValue = "64", description = "Request bodies above this get 413 (default: ${DEFAULT-VALUE}).")
    long maxBodyMib;

    @Option(names = "--max-header-kib", paramLabel = "KIB", defaultValue = "8", description = "Request line and headers above this get 431 (default: ${DEFAULT-VALUE}).")
    int maxHeaderKib;

    @Override
    public Integer call() throws Exception {
        if (maxHeaderKib < 1 || maxHeaderKib > 1 << 20) throw new IllegalArgumentException("--max-header-kib must be in 1..1048576, got " + maxHeaderKib);
        if (kvCacheGib != null && !(kvCacheGib > 0)) throw new IllegalArgumentException("--kv-cache-gib must be > 0, got " + kvCacheGib);
        quantize.apply(spec, spec.commandLine().getErr());
        ServerOptions options = new ServerOptions(model.resolve(), host, port, apiKeys, servedModelName, maxBatch, sessionLen,
                kvCacheGib == null ? ServerOptions.KV_CACHE_DEFAULT : kvCacheGib, maxNum, allowRemoteImages, maxBodyMib << 20, maxWaiting, Duration.ofSeconds(requestTimeoutSeconds),
                maxHeaderKib << 10);
        OpenAiServer server = OpenAiServer.start(options);
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            server.close();
            stopped.countDown();
        }));
        spec.commandLine().getErr().println("internvl serve: serving " + options.servedModelName() + " on " + server.baseUrl()
                + (apiKeys.isEmpty() ? "" : " (API key required)") + "; chat page at " + server.baseUrl() + "/");
        spec.commandLine().getErr().flush();
        stopped.await();
        return 0;
    }
}
