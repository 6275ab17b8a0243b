package org.aiwae.sampler;

/**
 * The draws of a sampling run, {@code draws[coordinate][chain][draw]}, with the chains' last state, the mean
 * acceptance probability and the number of divergent transitions; the {@link Diagnostics} of each coordinate.
 */
public record Trace(double[][][] draws, HmcState last, double meanAcceptance, int divergences) {

    public int dim() {
        return draws.length;
    }

    public int chains() {
        return draws[0].length;
    }

    public int length() {
        return draws[0][0].length;
    }

    /** Coordinate j's draws, {@code [chains][draws]} (the trace's own arrays). */
    public double[][] of(int j) {
        return draws[j];
    }

    public double mean(int j) {
        return Diagnostics.mean(draws[j]);
    }

    public double sd(int j) {
        return Diagnostics.sd(draws[j]);
    }

    public double essBulk(int j) {
        return Diagnostics.essBulk(draws[j]);
    }

    public double rhat(int j) {
        return Diagnostics.rhat(draws[j]);
    }

    public double mcseMean(int j) {
        return Diagnostics.mcseMean(draws[j]);
    }

    /**
     * A derived quantity's draws {@code [chains][draws]}: {@code f} of each draw's whole position (a constrained or
     * transformed parameter from the unconstrained coordinates), for the {@link Diagnostics}.
     */
    public double[][] derive(java.util.function.ToDoubleFunction<double[]> f) {
        double[][] out = new double[chains()][length()];
        double[] z = new double[dim()];
        for (int c = 0; c < chains(); c++) {
            for (int t = 0; t < length(); t++) {
                for (int j = 0; j < z.length; j++) {
                    z[j] = draws[j][c][t];
                }
                out[c][t] = f.applyAsDouble(z);
            }
        }
        return out;
    }
}
