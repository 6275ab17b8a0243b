package org.aiwae.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.lang.reflect.InvocationTargetException;
import java.net.URL;
import java.net.URLClassLoader;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * JOCL and JCuda are optional at run time: with either jar missing from the class path, asking for its backend
 * throws {@link BackendUnavailableException} with one line naming the library. Checked in a class loader that sees
 * this build's class path without the jar.
 */
class OptionalLibrariesTest {

    /** What {@code Accelerators.open(api)} throws in a class loader without jars whose path contains {@code without}. */
    private static Throwable openWithout(String api, String without) throws Exception {
        List<URL> urls = new ArrayList<>();
        for (String entry : System.getProperty("java.class.path").split(File.pathSeparator)) {
            if (!entry.contains(without)) {
                urls.add(new File(entry).toURI().toURL());
            }
        }
        try (URLClassLoader loader = new URLClassLoader(urls.toArray(URL[]::new), ClassLoader.getPlatformClassLoader())) {
            Class<?> accelerators = loader.loadClass(Accelerators.class.getName());
            try {
                accelerators.getMethod("open", String.class).invoke(null, api);
                return null;
            } catch (InvocationTargetException e) {
                return e.getCause();
            }
        }
    }

    @Test
    void aMissingJCudaIsOneLine() throws Exception {
        Throwable t = openWithout("cuda", "jcuda");
        assertEquals(BackendUnavailableException.class.getName(), t.getClass().getName());
        assertTrue(t.getMessage().startsWith("CUDA: JCuda (org.jcuda:jcuda) is not on the class path"), t.getMessage());
        assertTrue(!t.getMessage().contains("\n"), t.getMessage());
    }

    @Test
    void aMissingJoclIsOneLine() throws Exception {
        Throwable t = openWithout("opencl", "jocl");
        assertEquals(BackendUnavailableException.class.getName(), t.getClass().getName());
        assertTrue(t.getMessage().startsWith("OpenCL: JOCL (org.jocl:jocl) is not on the class path"), t.getMessage());
    }
}
