package org.internvl4j.hub;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Supplier;
import org.internvl4j.util.Json;

/**
 * Turns a {@code --model} argument into a local model directory. The argument is either a directory
 * (used as it is) or a hub id {@code owner/name[@revision]}, resolved through the hub cache and
 * downloaded when missing and the network is allowed ({@code HF_HUB_OFFLINE} unset).
 */
public final class ModelLocator {
    private ModelLocator() {}

    private static final ObjectMapper JSON = Json.mapper();

    /** Resolves with options from the environment and no progress output. */
    public static Path resolve(String modelArg) {
        return resolve(modelArg, DownloadListener.NONE);
    }

    /**
     * Resolves with options from the environment, reporting download progress to {@code listener}.
     * The environment is read only for a hub id, so a bad proxy variable cannot break a local directory.
     */
    public static Path resolve(String modelArg, DownloadListener listener) {
        return resolve(modelArg, HubOptions::fromEnvironment, listener);
    }

    /**
     * Resolves {@code modelArg} to a directory that holds a complete checkpoint.
     *
     * @throws HubException naming the argument and what was expected, when it is neither an existing
     *     directory nor a hub id, when the hub refuses, or when the result lacks files inference needs
     */
    public static Path resolve(String modelArg, HubOptions options, DownloadListener listener) {
        return resolve(modelArg, () -> options, listener);
    }

    private static Path resolve(String modelArg, Supplier<HubOptions> options, DownloadListener listener) {
        if (modelArg == null || modelArg.isBlank()) {
            throw new HubException(HubException.Kind.INVALID_ID,
                    "--model is empty: expected a model directory or a hub id such as OpenGVLab/InternVL2-8B-MPO");
        }
        Path local = Path.of(modelArg);
        if (Files.isDirectory(local)) {
            return local.toAbsolutePath().normalize();
        }
        if (Files.exists(local)) {
            throw new HubException(HubException.Kind.INVALID_ID, "--model " + modelArg
                    + " is a file: expected the checkpoint's directory (the one holding config.json)");
        }
        if (!RepoId.looksLikeId(modelArg) || modelArg.startsWith(".") || modelArg.startsWith("~")) {
            throw new HubException(HubException.Kind.INVALID_ID, "--model " + modelArg
                    + ": no such directory, and not a hub id of the form owner/name[@revision]");
        }
        RepoId repo = RepoId.parse(modelArg);
        DownloadResult result = new HubDownloader(options.get()).download(repo, listener);
        List<String> missing = missingFiles(result.snapshot());
        if (!missing.isEmpty()) {
            String how = result.fromCache()
                    ? " Run `internvl download " + repo.repo() + "` while online to complete it."
                    : " The repository does not have them (InternVL4j reads safetensors checkpoints).";
            throw new HubException(HubException.Kind.NOT_CACHED, "the snapshot of " + repo + " in "
                    + result.snapshot() + " lacks " + missing + "." + how);
        }
        return result.snapshot();
    }

    /**
     * The files a checkpoint folder still needs before it can be opened: {@code config.json}, and
     * every shard the safetensors index names (or at least one {@code .safetensors} file when there is
     * no index). A dangling symlink counts as missing.
     */
    public static List<String> missingFiles(Path dir) {
        List<String> missing = new ArrayList<>();
        if (!Files.isRegularFile(dir.resolve("config.json"))) {
            missing.add("config.json");
        }
        Path index = dir.resolve("model.safetensors.index.json");
        if (Files.isRegularFile(index)) {
            Set<String> shards = new LinkedHashSet<>();
            try {
                JsonNode map = JSON.readTree(index.toFile()).path("weight_map");
                map.properties().forEach(e -> shards.add(e.getValue().asText()));
            } catch (IOException e) {
                missing.add("model.safetensors.index.json (unreadable: " + e.getMessage() + ")");
            }
            for (String s : shards) {
                if (!Files.isRegularFile(dir.resolve(s))) {
                    missing.add(s);
                }
            }
        } else {
            try (var files = Files.list(dir)) {
                if (files.noneMatch(p -> p.getFileName().toString().endsWith(".safetensors") && Files.isRegularFile(p))) {
                    missing.add("*.safetensors");
                }
            } catch (IOException e) {
                missing.add("*.safetensors (cannot list " + dir + ": " + e.getMessage() + ")");
            }
        }
        return missing;
    }
}
