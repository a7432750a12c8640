// Placeholder: replaced by the extended XYZ tests.
