import Foundation

// The demo executable: one subcommand per experiment (see docs/demos/).
exit(DemoCLI.run(Array(CommandLine.arguments.dropFirst())))
