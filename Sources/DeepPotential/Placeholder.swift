enum DeepPotentialPlaceholder {}
