package org.internvl4j.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The `internvl` command. Each subcommand lives in its own class in this package. */
@Command(
        name = "internvl",
        mixinStandardHelpOptions = true,
        versionProvider = Main.Version.class,
        description = "Runs the InternVL2 vision-language models on the CPU, from their Hugging Face checkpoints.",
        subcommands = {
            CommandLine.HelpCommand.class,
            DownloadCommand.class,
        })
public final class Main implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }

    /** The configured command line; tests call execute() on it. */
    public static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new Main());
        // Hub errors (unknown model, offline, disk full...) already say what to do: one line, no trace.
        cl.setExecutionExceptionHandler((e, cmd, parsed) -> {
            if (e instanceof org.internvl4j.hub.HubException h) {
                cmd.getErr().println("internvl " + cmd.getCommandName() + ": " + h.getMessage());
                cmd.getErr().flush();
                return h.kind() == org.internvl4j.hub.HubException.Kind.INVALID_ID ? 2 : 1;
            }
            throw e;
        });
        return cl;
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = Main.class.getPackage().getImplementationVersion();
            return new String[] {"internvl4j " + (v == null ? "0.1.0-SNAPSHOT" : v),
                "Java " + Runtime.version() + " (" + System.getProperty("java.vm.name") + ")"};
        }
    }
}
