package org.aiwae.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** {@link Commands}, a grid cell's work: the GPU a cluster gave the task becomes the CUDA device of its commands. */
class CommandsTest {
    @Test
    void aTasksGpuBecomesTheCudaDeviceOfItsCommands() {
        List<String> train = List.of("train", "--out", "r", "--backend", "cuda", "--seed", "1");
        assertEquals(List.of("train", "--out", "r", "--backend", "cuda:3", "--seed", "1"), Commands.onDevice(train, "3", "c"));
        assertEquals(List.of("eval", "--backend=cuda:0"), Commands.onDevice(List.of("eval", "--backend=cuda"), "0", "c"));
        List<String> cpu = List.of("train", "--backend", "cpu", "--out", "cuda");
        assertSame(cpu, Commands.onDevice(cpu, "1", "c"), "a command off CUDA is left alone");
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> Commands.onDevice(train, "GPU-8f2a", "cell"));
        assertTrue(e.getMessage().startsWith("aiwae task cell: Spark gave it GPU address 'GPU-8f2a'"), e.getMessage());
    }
}
