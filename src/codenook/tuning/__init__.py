"""Fine-tuning on the user's own code: datasets, LoRA training, adapters for llama.cpp."""
