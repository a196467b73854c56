"""The downstream augmentation study (`multigan augment-eval STUDY`): does a GAN's labelled synthetic data help a
classifier? Real data at reduced label budgets vs the same + synthetic data at several ratios vs synthetic only
(the Classification Accuracy Score). study.py reads the study file, synthetic.py gets the GAN and its export,
cells.py runs the grid (resumable), downstream.py trains the classifier, report.py writes the table and plot;
runner.py puts them in order and commands.py is the command's entry point (the study stands on multigan.api)."""
