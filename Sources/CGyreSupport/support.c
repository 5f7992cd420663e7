// Intentionally empty: CGyreSupport is header-only (see include/gyre_support.h).
