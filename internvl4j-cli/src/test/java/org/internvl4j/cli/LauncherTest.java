package org.internvl4j.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** bin/internvl's checks before it starts a JVM: they need no build. */
class LauncherTest {
    /** A JAVA_HOME whose java says it is version, with or without a release file. */
    static Path fakeJdk(Path dir, String version, boolean releaseFile) throws Exception {
        Path bin = Files.createDirectories(dir.resolve("bin"));
        Path java = bin.resolve("java");
        Files.writeString(java, "#!/bin/sh\nif [ \"$1\" = -version ]; then echo 'openjdk version \"" + version + "\" 2023-01-17' >&2; exit 0; fi\n"
                + "echo 'Exception in thread \"main\" java.lang.UnsupportedClassVersionError: org/internvl4j/cli/Main' >&2; exit 1\n");
        Files.setPosixFilePermissions(java, PosixFilePermissions.fromString("rwxr-xr-x"));
        if (releaseFile) Files.writeString(dir.resolve("release"), "IMPLEMENTOR=\"Test\"\nJAVA_VERSION=\"" + version + "\"\n");
        return dir;
    }

    @Test
    void anOlderJdkIsNamedWithTheFix(@TempDir Path tmp) throws Exception {
        Path jdk17 = fakeJdk(tmp.resolve("jdk17"), "17.0.2", true);
        Run r = Launcher.internvl(Map.of("JAVA_HOME", jdk17.toString()), "--version");
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.err().lines().toList()).containsExactly("internvl: JDK 25 is required, but " + jdk17
                + " is Java 17.0.2; point JAVA_HOME at a JDK 25, e.g. export JAVA_HOME=/usr/lib/jvm/temurin-25-jdk-amd64");
        assertThat(r.err()).doesNotContain("UnsupportedClassVersionError");

        Path jdk21 = fakeJdk(tmp.resolve("jdk21"), "21.0.1", false);   // no release file: asks java -version
        Run r21 = Launcher.internvl(Map.of("JAVA_HOME", jdk21.toString()), "--version");
        assertThat(r21.code()).isEqualTo(1);
        assertThat(r21.err()).contains("JDK 25 is required", "is Java 21.0.1", "JAVA_HOME").doesNotContain("UnsupportedClassVersionError");

        Run none = Launcher.internvl(Map.of("JAVA_HOME", tmp.resolve("nothing").toString()), "--version");
        assertThat(none.code()).isEqualTo(1);
        assertThat(none.err()).contains("JDK 25 is required and no java was found", "JAVA_HOME=" + tmp.resolve("nothing"));
    }

    @Test
    void aMissingJarSaysHowToBuildItWithJavaHome(@TempDir Path tmp) throws Exception {
        Path bin = Files.createDirectories(tmp.resolve("bin"));
        Files.copy(Launcher.script(), bin.resolve("internvl"));
        Run r = Launcher.run(Map.of(), 60, java.util.List.of(bin.resolve("internvl").toString(), "--version"));
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.err()).contains("internvl4j-cli-0.1.0-SNAPSHOT.jar is missing; build it with: (cd " + tmp.toRealPath()
                + " && JAVA_HOME=" + Launcher.javaHome() + " ./mvnw -q package -DskipTests)");
    }
}
