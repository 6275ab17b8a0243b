package org.aiwae.train;

import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.aiwae.engine.Tensor;
import org.aiwae.engine.autodiff.Var;
import org.aiwae.engine.optim.Adam;

/**
 * How the state of a run's two Adam optimisers (the generative parameters' and the inference parameters') is
 * named in {@code train-state.safetensors}: each moment as {@code adam.gen.m.<param>}, {@code adam.gen.v.<param>},
 * ..., {@code adam.inf.v.<param>} (the parameter's name in the model's {@code namedParameters}), the step counts
 * as the metadata {@value #GENERATIVE_STEPS} and {@value #INFERENCE_STEPS}.
 */
final class AdamState {
    static final String GENERATIVE_STEPS = "adam.gen.steps";
    static final String INFERENCE_STEPS = "adam.inf.steps";

    private AdamState() {}

    /**
     * The moments of {@code generative} and {@code inference} by name, in file order: the generative optimiser's, then
     * the inference optimiser's, each parameter in the optimiser's order with its first moment before its second.
     */
    static Map<String, Tensor> moments(Adam generative, Adam inference, Map<String, Var> parameters) {
        Map<Var, String> names = new IdentityHashMap<>();
        parameters.forEach((name, v) -> names.put(v, name));
        Map<String, Tensor> out = new LinkedHashMap<>();
        add(out, "adam.gen", generative, names);
        add(out, "adam.inf", inference, names);
        return out;
    }

    private static void add(Map<String, Tensor> out, String prefix, Adam adam, Map<Var, String> names) {
        List<Var> params = adam.params();
        for (int i = 0; i < params.size(); i++) {
            String n = names.get(params.get(i));
            if (n == null) {
                throw new IllegalStateException("optimised parameter without a name");
            }
            out.put(prefix + ".m." + n, adam.firstMoments()[i]);
            out.put(prefix + ".v." + n, adam.secondMoments()[i]);
        }
    }
}
