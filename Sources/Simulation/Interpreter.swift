import Foundation
import InputDeck

/// Executes a deck command by command, as LAMMPS's `Input::file`: variables are substituted when a
/// line is read, `include` pushes another file, and each command acts on the simulation at once.
public final class Interpreter {
  public let simulation: Simulation
  private var readers: [DeckReader] = []

  public init(simulation: Simulation) { self.simulation = simulation }

  typealias Handler = (Simulation) -> (Command) throws -> Void

  /// Every command Tessera knows, by name; anything else is an error naming the command. Immutable
  /// after initialisation (unbound method references are not `Sendable`, hence the annotation).
  nonisolated(unsafe) static let commands: [String: Handler] = [
    "units": Simulation.units, "dimension": Simulation.dimension, "boundary": Simulation.boundary,
    "atom_style": Simulation.atomStyle, "atom_modify": Simulation.atomModify, "newton": Simulation.newton,
    "lattice": Simulation.lattice, "region": Simulation.region, "create_box": Simulation.createBox,
    "create_atoms": Simulation.createAtoms, "read_data": Simulation.readData, "write_data": Simulation.writeData,
    "mass": Simulation.mass, "velocity": Simulation.velocity, "processors": Simulation.processors,
    "pair_style": Simulation.pairStyle, "pair_coeff": Simulation.pairCoeff, "pair_modify": Simulation.pairModify,
    "neighbor": Simulation.neighbor, "neigh_modify": Simulation.neighModify,
    "dump": Simulation.dump, "dump_modify": Simulation.dumpModify, "undump": Simulation.undump,
    "compute": Simulation.compute, "write_restart": Simulation.writeRestartCommand,
    "restart": Simulation.restartCommand, "read_restart": Simulation.readRestart, "fix": Simulation.fix, "unfix": Simulation.unfix, "timestep": Simulation.timestepCommand,
    "thermo": Simulation.thermoCommand, "thermo_style": Simulation.thermoStyle,
    "thermo_modify": Simulation.thermoModify, "run": Simulation.run,
    "variable": Simulation.variable, "next": Simulation.next, "print": Simulation.printCommand,
    "log": Simulation.log, "echo": Simulation.echo, "balance": Simulation.balance,
  ]

  /// Runs a deck file to its end (the files it includes too).
  public func execute(file path: String) throws {
    readers.append(try DeckReader(path: path))
    while let reader = readers.last {
      guard let command = try reader.nextCommand(variables: simulation.variables) else {
        readers.removeLast()
        continue
      }
      if simulation.console.echo { simulation.console.line(command.text) }
      if command.name == "include" {
        try command.expectCount(1, usage: "include FILE")
        do {
          readers.append(try DeckReader(path: command.arguments[0]))
        } catch let error as DeckError {
          throw DeckError(error.message, at: command.location)
        }
        continue
      }
      guard let handler = Self.commands[command.name] else {
        throw DeckError("unknown command '\(command.name)'", at: command.location)
      }
      try handler(simulation)(command)
    }
  }
}
