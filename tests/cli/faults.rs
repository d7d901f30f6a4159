//! Faults: unusable databases, servers that go away, writers killed mid-flight.
