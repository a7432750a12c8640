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
    "box": Simulation.boxCommand, "change_box": Simulation.changeBox, "group": Simulation.group, "delete_atoms": Simulation.deleteAtoms, "set": Simulation.set, "displace_atoms": Simulation.displaceAtoms,
  ]

  /// Runs a deck file to its end (the files it includes too).
  public func execute(file path: String) throws {
    readers.append(try DeckReader(path: path))
    try drain()
  }

  /// Runs a deck given as text (`tessera < in.lammps`); `name` locates its errors.
  public func execute(text: String, name: String) throws {
    readers.append(DeckReader(text: text, path: name))
    try drain()
  }

  private func drain() throws {
    while let reader = readers.last {
      guard let command = try reader.nextCommand(variables: simulation.variables) else {
        readers.removeLast()
        continue
      }
      try perform(command)
    }
  }

  /// One command: the flow of the deck itself (`include`, `if`, `label`, `jump`) here, everything
  /// else through the table.
  private func perform(_ command: Command) throws {
    if simulation.console.echo { simulation.console.line(command.text) }
    switch command.name {
    case "include":
      try command.expectCount(1, usage: "include FILE")
      readers.append(try open(command.arguments[0], for: command))
    case "if": try conditional(command)
    case "label": try command.expectCount(1, usage: "label ID")
    case "jump": try jump(command)
    default:
      guard let handler = Self.commands[command.name] else {
        throw DeckError("unknown command '\(command.name)'", at: command.location)
      }
      try handler(simulation)(command)
    }
  }

  private func open(_ path: String, for command: Command) throws -> DeckReader {
    do {
      return try DeckReader(path: path)
    } catch let error as DeckError {
      throw DeckError(error.message, at: command.location)
    }
  }

  /// `if BOOL then CMD… [elif BOOL CMD…]… [else CMD…]` (LAMMPS `If::command`): the expression's
  /// variables are substituted now (it was quoted), each chosen command is then read as a line of
  /// its own, in order.
  private func conditional(_ c: Command) throws {
    guard c.arguments.count >= 3, c.arguments[1] == "then" else {
      throw c.error("expected if \"BOOL\" then \"CMD\" … [elif \"BOOL\" \"CMD\" …] [else \"CMD\" …]")
    }
    // Branches: (condition, commands); the else branch's condition is nil.
    var branches: [(condition: String?, commands: [String])] = [(c.arguments[0], [])]
    var i = 2
    while i < c.arguments.count {
      switch c.arguments[i] {
      case "elif":
        guard i + 1 < c.arguments.count else { throw c.error("elif without its Boolean expression") }
        branches.append((c.arguments[i + 1], []))
        i += 2
      case "else":
        guard branches.last?.condition != nil else { throw c.error("a second else") }
        branches.append((nil, []))
        i += 1
      default:
        branches[branches.count - 1].commands.append(c.arguments[i])
        i += 1
      }
    }
    if let empty = branches.first(where: { $0.commands.isEmpty }) {
      throw c.error(empty.condition.map { "no command to run when '\($0)' is true" } ?? "no command after else")
    }
    for branch in branches {
      if let condition = branch.condition {
        let expression = try simulation.variables.substitute(condition, at: c.location)
        guard try BooleanExpression.evaluate(expression, at: c.location) else { continue }
      }
      for text in branch.commands {
        if let command = try DeckReader.command(text, at: c.location, variables: simulation.variables) {
          try perform(command)
        }
      }
      return
    }
  }

  /// `jump SELF|FILE [LABEL]` (LAMMPS `Input::jump`): SELF reads the current deck again from its
  /// start, FILE replaces it; with LABEL, reading resumes after `label LABEL`. The jump right after
  /// a `next` that exhausted its variable is skipped, which ends a loop.
  private func jump(_ c: Command) throws {
    try c.expectCount(1, 2, usage: "jump SELF|FILE [LABEL]")
    if simulation.skipNextJump {
      simulation.skipNextJump = false
      return
    }
    let reader: DeckReader
    if c.arguments[0] == "SELF" {
      guard let current = readers.last else { return }
      current.rewind()
      reader = current
    } else {
      reader = try open(c.arguments[0], for: c)
      readers[readers.count - 1] = reader
    }
    if c.arguments.count == 2, try !reader.skip(toLabel: c.arguments[1]) {
      throw c.error("label '\(c.arguments[1])' not found in \(reader.path)")
    }
  }
}
