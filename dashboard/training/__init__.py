"""The live training loop in time-boxed chunks (``loop``); the Train page's controls."""
