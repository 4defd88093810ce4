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
            HelpCommand.class,
            ChatCommand.class,
            GenerateCommand.class,
            ServeCommand.class,
            DownloadCommand.class,
            InspectCommand.class,
            QuantizeCommand.class,
            PreprocessCommand.class,
            TokenizeCommand.class,
            BenchCommand.class,
            MakeTinyCommand.class,
            MakeSyntheticCommand.class,
            SparkCaptionCommand.class,
        })
public final class Main implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    public static void main(String[] args) {
        StandardError.restore();
        System.exit(commandLine().execute(args));
    }

    /** The configured command line; tests call execute() on it. */
    public static CommandLine commandLine() {
        return new CommandLine(new Main())
                .setCaseInsensitiveEnumValuesAllowed(true)
                // `--max-new-tokens 8 --max-new-tokens 16` means 16, as in most command lines
                .setOverwrittenOptionsAllowed(true)
                .setParameterExceptionHandler(Main::usageError)
                .setExecutionExceptionHandler(Main::oneLineError);
    }

    /** "internvl" or "internvl bench kernels": the command as the user typed it. */
    static String name(CommandLine cl) {
        return cl.getCommandSpec().qualifiedName();
    }

    /**
     * A usage error (unknown or malformed option, bad value) prints one line and where to read more,
     * not the whole usage, and exits with 2.
     */
    static int usageError(CommandLine.ParameterException e, String[] args) {
        CommandLine cl = e.getCommandLine();
        var err = cl.getErr();
        String message = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        err.println(name(cl) + ": " + message.lines().findFirst().orElse(""));
        CommandLine.UnmatchedArgumentException.printSuggestions(e, err);
        err.println("see " + name(cl) + " --help");
        err.flush();
        return cl.getCommandSpec().exitCodeOnInvalidInput();
    }

    /**
     * A failed command prints one line naming what is wrong (our exceptions carry the file, tensor or
     * field) and exits with 1; INTERNVL_DEBUG=1 adds the stack trace.
     */
    static int oneLineError(Exception e, CommandLine cl, CommandLine.ParseResult parsed) {
        String message = e.getMessage() == null || e.getMessage().isBlank() ? e.getClass().getSimpleName() : e.getMessage();
        boolean ours = e instanceof org.internvl4j.checkpoint.CheckpointException || e instanceof IllegalArgumentException
                || e instanceof org.internvl4j.hub.HubException || e instanceof java.io.UncheckedIOException;
        cl.getErr().println(name(cl) + ": " + (ours ? "" : e.getClass().getSimpleName() + ": ")
                + message.lines().findFirst().orElse(""));
        if (System.getenv("INTERNVL_DEBUG") != null) e.printStackTrace(cl.getErr());
        cl.getErr().flush();
        // A malformed --model id is a usage error, like a bad option.
        return e instanceof org.internvl4j.hub.HubException h && h.kind() == org.internvl4j.hub.HubException.Kind.INVALID_ID ? 2 : 1;
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
