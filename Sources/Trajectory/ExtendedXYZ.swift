// Placeholder: replaced by the extended XYZ reader and writer.
