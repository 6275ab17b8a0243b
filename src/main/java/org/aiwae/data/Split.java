package org.aiwae.data;

/** A dataset's training and test images. */
public record Split(String dataset, Images train, Images test) {
    public Split {
        if (train.dim() != test.dim()) {
            throw new IllegalArgumentException(dataset + ": train and test images differ in size");
        }
    }
}
