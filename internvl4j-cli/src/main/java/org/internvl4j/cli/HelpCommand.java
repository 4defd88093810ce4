package org.internvl4j.cli;

import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * {@code internvl help [COMMAND [SUBCOMMAND]]}: the usage of any command, nested ones included
 * ({@code internvl help bench kernels}); picocli's own help command looks one level deep only.
 */
@Command(name = "help", helpCommand = true, header = "Shows the usage of internvl or of one of its commands.",
        description = "With COMMAND, the usage of that command; a nested one too, e.g. internvl help bench kernels.")
final class HelpCommand implements Runnable {
    @Spec
    CommandSpec spec;

    @Parameters(paramLabel = "COMMAND", arity = "0..*", description = "A command, and its subcommand if it has them (e.g. bench kernels).")
    List<String> path = new ArrayList<>();

    @Override
    public void run() {
        CommandLine cl = spec.commandLine().getParent();
        for (String name : path) {
            CommandLine sub = cl.getSubcommands().get(name);
            if (sub == null) {
                throw new ParameterException(spec.commandLine(), "no command '" + name + "' in " + Main.name(cl)
                        + (cl.getSubcommands().isEmpty() ? "" : "; its commands: " + String.join(", ", commandNames(cl))));
            }
            cl = sub;
        }
        cl.usage(spec.commandLine().getOut());
        spec.commandLine().getOut().flush();
    }

    private static List<String> commandNames(CommandLine cl) {
        List<String> names = new ArrayList<>(cl.getSubcommands().keySet());
        names.remove("help");
        return names;
    }
}
