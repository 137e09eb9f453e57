/** The server's version (`maxiofs_build_info`). */
export const VERSION = "0.1.0";
