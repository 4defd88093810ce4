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
            TokenizeCommand.class,
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
        return new CommandLine(new Main());
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
