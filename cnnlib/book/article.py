"""What the seed article reports, in one place, so every chapter quotes the same numbers.

A. Escontrela, "Convolutional Neural Networks from the ground up", Towards Data Science (2018),
with its code in the GitHub repository Alescontrela/Numpy-CNN (cited as ``escontrela2018`` and
``numpycnn`` in ``book/references.bib``). These are the article's claims and settings, not our
results: chapters glue them next to the numbers they compute.
"""

#: Test accuracy the article reports for its trained network (a fraction).
TEST_ACCURACY = 0.9840
#: Approximate wall-clock training time the article reports, in hours.
TRAINING_HOURS = 5.0
#: Training images the article uses: the first 50,000 of MNIST's 60,000.
TRAIN_IMAGES = 50_000
#: Epochs, batch size and Adam settings of the article's training run.
EPOCHS = 2
BATCH_SIZE = 32
LEARNING_RATE = 0.01
BETAS = (0.95, 0.99)

#: Seconds of training per image in the article: its hours spread over every image it saw.
SECONDS_PER_IMAGE = TRAINING_HOURS * 3600 / (EPOCHS * TRAIN_IMAGES)

__all__ = ["TEST_ACCURACY", "TRAINING_HOURS", "TRAIN_IMAGES", "EPOCHS", "BATCH_SIZE",
           "LEARNING_RATE", "BETAS", "SECONDS_PER_IMAGE"]
