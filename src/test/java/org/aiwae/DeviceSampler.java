package org.aiwae;

import org.aiwae.engine.backend.Backend;
import org.junit.jupiter.api.Assumptions;

/**
 * The one place where a case of the backend-parametrized suite waits for issue 12's device-aware sampler:
 * {@code org.aiwae.sampler} (HMC, AIS) still reads host arrays, so AIWAE training and AIS evaluation of a model
 * without a fused kernel (an autodiff-only model such as {@code FactorModel}) cannot run on a device backend yet.
 * Each such case calls {@link #requireDeviceAwareSampler} and is skipped on devices with the reason; when the
 * sampler runs on device tensors, this method goes and those cases run everywhere.
 */
public final class DeviceSampler {
    private DeviceSampler() {}

    /** Skips the calling case on a device backend until the sampler runs on device tensors (issue 12). */
    public static void requireDeviceAwareSampler(Backend backend) {
        if (!backend.isHost()) {
            Assumptions.abort("needs the device-aware sampler (issue 12)");
        }
    }
}
