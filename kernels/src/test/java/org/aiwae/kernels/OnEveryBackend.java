package org.aiwae.kernels;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The one parametrization over backends: the annotated test runs once per name of
 * {@link TestBackends#names} ({@code cpu}, {@code opencl}, {@code cuda}), which it takes as its
 * {@code String} parameter and opens with {@link TestBackends#get} (an absent device skips that case
 * with the reason, or fails it where {@code AIWAE_REQUIRE_<NAME>} is set).
 */
@Target(ElementType.METHOD)
@Retention(RetentionPolicy.RUNTIME)
@ParameterizedTest(name = "{0}")
@MethodSource("org.aiwae.kernels.TestBackends#names")
public @interface OnEveryBackend {}
