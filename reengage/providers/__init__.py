"""The outside services an account connects, one package each; the registry names them all."""
