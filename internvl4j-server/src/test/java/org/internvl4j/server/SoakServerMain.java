package org.internvl4j.server;

import java.nio.file.Path;
import java.time.Duration;

/**
 * The server process of {@link ServerSoak}: serves a checkpoint on loopback with a free port, prints
 * {@code PORT n} on stdout once it listens, and stops when stdin closes (so it never outlives its driver).
 * Arguments: model directory, max body bytes, request timeout seconds.
 */
public final class SoakServerMain {
    private SoakServerMain() {
    }

    public static void main(String[] args) throws Exception {
        ServerOptions options = ServerOptions.defaults(Path.of(args[0])).withPort(0).withMaxBatch(4).withMaxWaiting(32)
                .withSessionLen(4096).withKvCacheGib(0.0625).withMaxNum(6).withMaxBodyBytes(Long.parseLong(args[1]))
                .withRequestTimeout(Duration.ofSeconds(Long.parseLong(args[2])));
        try (OpenAiServer server = OpenAiServer.start(options)) {
            System.out.println("PORT " + server.port());
            System.out.flush();
            while (System.in.read() >= 0) {
                // wait for the driver to close our stdin
            }
        }
    }
}
