/// One configuration of an extended XYZ file, kept as close to the file as ASE's reading allows.
///
/// Invariants `ExtendedXYZ.format` relies on: `positions.count == 3 * species.count`, `lattice` has 9
/// numbers, `pbc` has 3 flags, every property holds `width * atomCount` values, and no info key is one of
/// the keys the comment line reserves (`Lattice`, `Properties`, `pbc`).
public struct ExtendedXYZFrame: Sendable, Equatable {
  /// Element symbol per atom.
  public var species: [String]
  /// Cartesian positions in Å, packed [atom][x, y, z].
  public var positions: [Double]
  /// The cell vectors a, b, c as rows, in file order (`Lattice="ax ay az bx by bz cx cy cz"`, which is
  /// ASE's `atoms.cell` row-major); nil when the comment line has no `Lattice`.
  public var lattice: [Double]?
  /// Periodicity along a, b, c.
  public var pbc: [Bool]
  /// Every other comment-line key, in file order.
  public var info: ExtendedXYZInfo
  /// Per-atom properties other than species and positions, in `Properties` order.
  public var arrays: [ExtendedXYZProperty]

  /// `pbc` defaults as in ASE: periodic in all directions when a lattice is given, in none otherwise.
  public init(species: [String], positions: [Double], lattice: [Double]? = nil, pbc: [Bool]? = nil,
              info: ExtendedXYZInfo = [:], arrays: [ExtendedXYZProperty] = []) {
    self.species = species
    self.positions = positions
    self.lattice = lattice
    self.pbc = pbc ?? Array(repeating: lattice != nil, count: 3)
    self.info = info
    self.arrays = arrays
  }

  public var atomCount: Int { species.count }

  /// The per-atom property called `name`, if the frame has one.
  public func property(named name: String) -> ExtendedXYZProperty? {
    arrays.first { $0.name == name }
  }
}

/// A comment-line value, typed the way ASE's `key_val_str_to_dict` converts it: all tokens integers, else
/// all reals, else all booleans, else the text itself. A single number or flag is a scalar, several a list,
/// so a one-element list is written and read back as a scalar, exactly as in ASE.
public enum ExtendedXYZValue: Sendable, Equatable {
  case string(String)
  case double(Double)
  case integer(Int)
  case bool(Bool)
  case doubles([Double])
  case integers([Int])
  case bools([Bool])
}

/// Per-frame key/value pairs in file order. Setting an existing key replaces its value in place and
/// setting nil removes it, the way a Python dict keeps the first insertion's position.
public struct ExtendedXYZInfo: Sendable, Equatable, RandomAccessCollection, ExpressibleByDictionaryLiteral {
  public struct Entry: Sendable, Equatable {
    public var key: String
    public var value: ExtendedXYZValue

    public init(key: String, value: ExtendedXYZValue) {
      self.key = key
      self.value = value
    }
  }

  public private(set) var entries: [Entry] = []

  public init(_ pairs: [(String, ExtendedXYZValue)] = []) {
    for (key, value) in pairs { self[key] = value }
  }

  public init(dictionaryLiteral pairs: (String, ExtendedXYZValue)...) {
    self.init(pairs)
  }

  public var keys: [String] { entries.map(\.key) }

  public subscript(key: String) -> ExtendedXYZValue? {
    get { entries.first { $0.key == key }?.value }
    set {
      let existing = entries.firstIndex { $0.key == key }
      switch (existing, newValue) {
      case let (index?, value?): entries[index].value = value
      case let (index?, nil): entries.remove(at: index)
      case let (nil, value?): entries.append(Entry(key: key, value: value))
      case (nil, nil): break
      }
    }
  }

  public var startIndex: Int { entries.startIndex }
  public var endIndex: Int { entries.endIndex }
  public subscript(position: Int) -> Entry { entries[position] }
}

/// One per-atom column group named in `Properties=name:type:width`.
public struct ExtendedXYZProperty: Sendable, Equatable {
  /// The `Properties` type letter.
  public enum Kind: String, Sendable {
    case real = "R"
    case integer = "I"
    case string = "S"
    case logical = "L"
  }

  /// The values of all atoms, packed [atom][column].
  public enum Values: Sendable, Equatable {
    case reals([Double])
    case integers([Int])
    case strings([String])
    case logicals([Bool])
  }

  public var name: String
  /// Columns per atom.
  public var width: Int
  public var values: Values

  public init(name: String, width: Int, values: Values) {
    self.name = name
    self.width = width
    self.values = values
  }

  public var kind: Kind {
    switch values {
    case .reals: .real
    case .integers: .integer
    case .strings: .string
    case .logicals: .logical
    }
  }

  /// Number of stored values (atoms × width).
  var valueCount: Int {
    switch values {
    case .reals(let values): values.count
    case .integers(let values): values.count
    case .strings(let values): values.count
    case .logicals(let values): values.count
    }
  }
}
