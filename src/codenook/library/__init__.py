"""The model library: the catalog's models on this machine, the weights folder, downloads and
the Hugging Face token. What the command line and the window call to manage models."""
