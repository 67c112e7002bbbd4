/** The host cannot start (data directory in use, wrong unseal key, port taken...): main prints it and exits 1. */
export class StartupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "StartupError";
  }
}
