package org.aiwae.train;

import org.aiwae.engine.Placement;
import org.aiwae.engine.Tensor;
import org.aiwae.engine.backend.Backend;
import org.aiwae.engine.backend.Backends;
import org.aiwae.objective.Objective;
import org.aiwae.sampler.Ais;

/**
 * The sums over an epoch's minibatches that the progress line and {@code metrics.jsonl} report: the two losses
 * weighted by the minibatch size, the acceptance per temperature step, and whether a loss was not finite.
 * On the host they are doubles added at every step, and the first loss that is not finite is noticed at its
 * minibatch. On a device they are float sums with Kahan's compensation kept there (three launches per step,
 * no host read) and read only when {@link #read} is called: when the progress line is drawn and at the end of
 * the epoch, before anything is published; a loss that is not finite is then noticed within the minibatches
 * since the last read (the step itself changed no parameter: Adam is gated on its losses on the device).
 */
abstract sealed class StepTotals permits StepTotals.Host, StepTotals.Device {
    /** The sums so far; {@code diverged} names the bad loss and where, or is null. */
    record Sums(double loss, double encoderLoss, double[] acceptance, String diverged) {}

    protected final int batches;
    protected int steps;

    private StepTotals(int batches) {
        this.batches = batches;
    }

    /** Sums for an epoch of {@code batches} minibatches of tensors in {@code where}'s memory. */
    static StepTotals on(Placement where, int batches) {
        return where.isHost() ? new Host(batches) : new Device(where, batches);
    }

    /** Adds a step of {@code examples} data points. */
    abstract void add(Objective.StepResult r, int examples);

    /** The sums so far (a host read on a device). */
    abstract Sums read();

    /** What {@link #read} found wrong so far without reading anything (on the host: at once; on a device: at the last read). */
    abstract String diverged();

    static final class Host extends StepTotals {
        private double loss;
        private double encoder;
        private double[] acceptance;
        private String diverged;

        Host(int batches) {
            super(batches);
        }

        @Override
        void add(Objective.StepResult r, int examples) {
            steps++;
            if (diverged != null) {
                return;
            }
            double l = r.loss(), e = r.encoderLoss();
            if (!Double.isFinite(l) || !Double.isFinite(e)) {
                diverged = "loss " + l + ", encoder loss " + e + " at minibatch " + steps + " of " + batches;
                return;
            }
            loss += l * examples;
            encoder += e * examples;
            double[] a = r.acceptance();
            if (a.length > 0) {
                if (acceptance == null) {
                    acceptance = new double[a.length];
                }
                for (int t = 0; t < a.length; t++) {
                    acceptance[t] += a[t];
                }
            }
        }

        @Override
        Sums read() {
            return new Sums(loss, encoder, acceptance == null ? null : acceptance.clone(), diverged);
        }

        @Override
        String diverged() {
            return diverged;
        }
    }

    static final class Device extends StepTotals {
        private final Placement where;
        private final Tensor zero;
        private final Kahan loss;
        private final Kahan encoder;
        private Kahan acceptance;
        private Tensor acceptanceZeros;
        private int clean;
        private String diverged;

        Device(Placement where, int batches) {
            super(batches);
            this.where = where;
            this.zero = where.zeros(1);
            this.loss = new Kahan(where, 1);
            this.encoder = new Kahan(where, 1);
        }

        @Override
        void add(Objective.StepResult r, int examples) {
            steps++;
            Backend be = Backends.of(where);
            loss.add(be, zero, r.decoderLoss().reshape(1), examples);
            encoder.add(be, zero, r.encoderLossValue().reshape(1), examples);
            if (r.acceptedCounts() != null) {
                int n = r.acceptedCounts().size();
                if (acceptance == null) {
                    acceptance = new Kahan(where, n);
                    acceptanceZeros = where.zeros(n);
                }
                acceptance.add(be, acceptanceZeros, r.acceptedCounts(), 1f / r.chains());
            }
        }

        /** Sums with Kahan's compensation, kept on the device: the total is {@code sum - compensation}. */
        private record Kahan(Tensor sum, Tensor compensation) {
            Kahan(Placement where, int n) {
                this(where.zeros(n), where.zeros(n));
            }

            /** {@code += (x - zero) scale}, in place (AIS's compensated reweighting does exactly this). */
            void add(Backend be, Tensor zero, Tensor x, float scale) {
                be.reweight(zero, x, scale, sum, compensation, sum, compensation);
            }

            /** The totals, in double (a host read). */
            double[] read() {
                return Ais.compensated(sum, compensation);
            }
        }

        @Override
        Sums read() {
            double l = loss.read()[0], e = encoder.read()[0];
            double[] a = acceptance == null ? null : acceptance.read();
            if (diverged == null) {
                if (Double.isFinite(l) && Double.isFinite(e)) {
                    clean = steps;
                } else {
                    diverged = "a loss that is not finite (loss sum " + l + ", encoder loss sum " + e + ") in minibatches " + (clean + 1)
                            + " to " + steps + " of " + batches;
                }
            }
            return new Sums(l, e, a, diverged);
        }

        @Override
        String diverged() {
            return diverged;
        }
    }
}
