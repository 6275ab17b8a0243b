package org.aiwae;

/**
 * A problem the user can fix (bad input, missing data, impossible settings). The command line
 * prints its message as one line on stderr and exits non-zero; it never shows a stack trace.
 */
public class AiwaeException extends RuntimeException {
    public AiwaeException(String message) {
        super(message);
    }

    public AiwaeException(String message, Throwable cause) {
        super(message, cause);
    }
}
