// PaperAtlas
