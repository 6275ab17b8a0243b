/**
 * The {@link org.aiwae.cli.TaskRunner} on Apache Spark: {@code aiwae} command lines as Spark tasks,
 * {@code local[N]} in-process or any Spark master. Loaded only when a command is given {@code --master}.
 */
package org.aiwae.spark;
