package io.ckpt4j;

import java.io.File;
import java.net.URISyntaxException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/** A command line that starts another JVM on this test JVM's classpath. */
public final class ChildJvm {
  private ChildJvm() {}

  /** {@code java [jvmOptions] -cp <this classpath> main args...}. */
  public static List<String> command(List<String> jvmOptions, Class<?> main, String... args)
      throws URISyntaxException {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.addAll(jvmOptions);
    command.add("-cp");
    command.add(classpath());
    command.add(main.getName());
    command.addAll(List.of(args));
    return command;
  }

  /** This JVM's classpath, however the tests were launched (Maven, the JUnit console). */
  public static String classpath() throws URISyntaxException {
    Set<String> entries = new LinkedHashSet<>();
    for (ClassLoader cl = ChildJvm.class.getClassLoader(); cl != null; cl = cl.getParent()) {
      if (cl instanceof URLClassLoader u) {
        for (URL url : u.getURLs()) entries.add(Path.of(url.toURI()).toString());
      }
    }
    String surefire = System.getProperty("surefire.test.class.path");
    for (String cp : new String[] {surefire, System.getProperty("java.class.path")}) {
      if (cp == null) continue;
      for (String e : cp.split(File.pathSeparator)) if (!e.isEmpty()) entries.add(e);
    }
    return String.join(File.pathSeparator, new ArrayList<>(entries));
  }
}
