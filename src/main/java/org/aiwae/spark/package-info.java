/**
 * The {@link org.aiwae.cli.TaskRunner} on Apache Spark: each task's work as a Spark job,
 * {@code local[N]} in-process or any Spark master. Loaded only when a command is given {@code --master}.
 */
package org.aiwae.spark;
