import Foundation
import GyreArrays

extension Canvas {
    /// Aggregates `points` onto the canvas with `reduction`, on `threads` threads: the points
    /// are cut into runs, each run appended to a state of its own, and the states combined in
    /// row order (datashader's `Canvas.points(df, x, y, agg)`). `usesValues` makes `count`
    /// and `any` read the value column (count only non-NaN values, datashader's
    /// `count(column)`); the other reductions always read it.
    public func points(_ points: Points, reduction: RenderReduction, usesValues: Bool? = nil, threads: Int? = nil) async throws -> Aggregate {
        let state = try await aggregate(points, reduction: reduction, usesValues: usesValues, threads: threads)
        return state.finalize(categories: points.categories?.names)
    }

    /// The combined state of `points` (to combine further with other inputs before finalizing).
    public func aggregate(_ points: Points, reduction: RenderReduction, usesValues: Bool? = nil, threads: Int? = nil) async throws -> AggregateState {
        let usesValues = reduction.requiresValues || (usesValues ?? false)
        if case .countCategories = reduction, points.categories == nil {
            throw GyreRenderError(.invalidArgument, "count_cat needs a category column")
        }
        if usesValues && points.values == nil {
            throw GyreRenderError(.invalidArgument, "reduction \(reduction) needs a value column")
        }
        let canvas = self
        let cores = Swift.max(1, threads ?? ProcessInfo.processInfo.activeProcessorCount)
        // A run of at least a million points: below that a second canvas costs more than it saves.
        let runs = Swift.max(1, Swift.min(cores, points.count / (1 << 20)))
        let n = points.count
        let states = try await Bounded.map(count: runs, limit: runs) { k -> AggregateState in
            let lo = n * k / runs, hi = n * (k + 1) / runs
            var s = AggregateState(canvas: canvas, reduction: reduction, usesValues: usesValues)
            try s.append(points.slice(lo..<hi))
            return s
        }
        var total = states[0]
        for s in states.dropFirst() { try total.combine(s) }
        return total
    }
}
