"""The trainee's side: catalog, course and lesson pages, progress, resume, completion, transcript."""
