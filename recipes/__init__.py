"""The recipes, installed as package data (`multigan.recipes`); read them with `multigan.recipe.packaged_recipes_dir`."""
