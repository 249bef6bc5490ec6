"""The content catalogue: knowledge articles and the declarations in
knowledge/catalogue.yml, loaded once and turned into everything derived from them.

- `files`: strict YAML reading and schema validation (`*.schema.json` beside it);
- `articles`: one article file -> `Article`;
- `catalogue`: topics, intents, services, municipalities and the articles, together;
- `render`: the answer users read (contacts filled in) and its source line;
- `grounding`: checks an article against the annual report;
- `training_data`: the Rasa files generated from the catalogue at train time.
"""
