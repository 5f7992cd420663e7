/// What a pixel holds after aggregation, as datashader's reductions name them. Each runs as
/// create / append / combine / finalize (``AggregateState``), so large inputs stream in chunks
/// on all cores and the partial states of chunks combine in any grouping.
///
/// `count` and `any` count every point when no value column is given, and only points whose
/// value is not NaN when one is (datashader's `count()` and `count(column)`). The others skip
/// NaN values; a pixel no value reached is NaN (`false` for `any`, 0 for the counts).
public enum RenderReduction: Sendable, Hashable, CustomStringConvertible {
    case count
    case any
    case sum
    case mean
    case min
    case max
    case std
    case variance
    case first
    case last
    /// Points per category: the category column holds codes `0..<categories` (datashader's
    /// `count_cat`); the aggregate is (height, width, categories).
    case countCategories(Int)

    /// Whether the reduction reads a value column (`count` and `any` may or may not).
    public var requiresValues: Bool {
        switch self {
        case .count, .any, .countCategories: return false
        default: return true
        }
    }

    /// The datashader name (`count`, `var`, `count_cat`, ...).
    public var name: String {
        switch self {
        case .count: return "count"
        case .any: return "any"
        case .sum: return "sum"
        case .mean: return "mean"
        case .min: return "min"
        case .max: return "max"
        case .std: return "std"
        case .variance: return "var"
        case .first: return "first"
        case .last: return "last"
        case .countCategories: return "count_cat"
        }
    }

    public var description: String { name }

    /// The reduction a datashader name stands for (`count_cat` needs the number of categories,
    /// given once the category column is read).
    public init(name: String, categories: Int = 0) throws {
        switch name.lowercased() {
        case "count": self = .count
        case "any": self = .any
        case "sum": self = .sum
        case "mean": self = .mean
        case "min": self = .min
        case "max": self = .max
        case "std": self = .std
        case "var", "variance": self = .variance
        case "first": self = .first
        case "last": self = .last
        case "count_cat", "count-cat", "countcat": self = .countCategories(categories)
        default:
            throw GyreRenderError(.invalidArgument, "unknown reduction '\(name)' (use count, any, sum, mean, min, max, std, var, first, last or count_cat)")
        }
    }
}
