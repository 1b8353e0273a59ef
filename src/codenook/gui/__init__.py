"""The desktop window (Tkinter). A face: nothing imports it."""
