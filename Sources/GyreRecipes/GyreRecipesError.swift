@_exported import GyreCore

/// The error type of `GyreRecipes`: a code, a message naming the recipe, key, input or target
/// at fault, and an optional cause.
public typealias GyreRecipesError = GyreError<RecipesDomain>

/// The domain of `GyreRecipesError`.
public enum RecipesDomain: Sendable {}

extension GyreError.Code where Domain == RecipesDomain {
    /// A recipe that does not parse or says something impossible.
    public static var recipe: Self { Self("invalid recipe") }
    /// Inputs that could not be read, after their retries.
    public static var inputs: Self { Self("inputs failed") }
    /// The target is in the way (exists, belongs to another recipe) or does not match.
    public static var target: Self { Self("target") }
    /// The target does not hold what the sources hold.
    public static var validation: Self { Self("validation failed") }
}
