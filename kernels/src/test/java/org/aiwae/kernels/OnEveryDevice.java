package org.aiwae.kernels;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** {@link OnEveryBackend} without the CPU: {@code opencl} and {@code cuda} ({@link TestBackends#devices}). */
@Target(ElementType.METHOD)
@Retention(RetentionPolicy.RUNTIME)
@ParameterizedTest(name = "{0}")
@MethodSource("org.aiwae.kernels.TestBackends#devices")
public @interface OnEveryDevice {}
