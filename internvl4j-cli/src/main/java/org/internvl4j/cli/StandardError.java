package org.internvl4j.cli;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;

/**
 * Undoes bin/internvl's stderr filter. The launcher passes the JVM's stderr through a filter that
 * drops the incubator-module warning, and keeps the real stderr open as descriptor
 * INTERNVL_STDERR_FD. A filter is another process, so its lines would arrive late (after the next
 * chat prompt); once the JVM has booted, descriptor 2 is pointed back at the real stderr with dup2.
 */
final class StandardError {
    private StandardError() {}

    static void restore() {
        String fd = System.getenv("INTERNVL_STDERR_FD");
        if (fd == null || !fd.matches("[0-9]+")) return;
        int saved = Integer.parseInt(fd);
        try {
            Linker linker = Linker.nativeLinker();
            var libc = linker.defaultLookup();
            var intInt = FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT);
            MethodHandle dup2 = linker.downcallHandle(libc.find("dup2").orElseThrow(), intInt);
            MethodHandle close = linker.downcallHandle(libc.find("close").orElseThrow(),
                    FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
            System.err.flush();
            if ((int) dup2.invokeExact(saved, 2) == 2) {
                int ignored = (int) close.invokeExact(saved);
            }
        } catch (Throwable e) {
            // not a POSIX system, or the descriptor is not open: stderr stays filtered, which only delays it
        }
    }
}
