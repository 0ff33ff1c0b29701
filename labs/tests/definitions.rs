//! The embedded lab files load without a single diagnostic, and every
//! lesson's lab link points at a lab of its own chapter.

#[test]
fn every_lab_file_loads_cleanly() {
    let loaded = layerlab_labs::load();
    let shown: Vec<String> = loaded.diagnostics.iter().map(ToString::to_string).collect();
    assert!(shown.is_empty(), "{}", shown.join("\n"));
    assert_eq!(
        loaded.labs.len(),
        layerlab_labs::FILES.len(),
        "a lab file was dropped"
    );
    for lab in &loaded.labs {
        for (i, step) in lab.steps.iter().enumerate() {
            assert!(!step.solution.is_empty(), "{} step {}", lab.id, i + 1);
            assert!(!step.checks.is_empty(), "{} step {}", lab.id, i + 1);
        }
    }
}

#[test]
fn lesson_lab_links_resolve_to_labs_of_the_same_chapter() {
    let labs = layerlab_labs::labs();
    for chapter in &layerlab_lessons::course().chapters {
        for lesson in &chapter.lessons {
            for id in &lesson.labs {
                let lab = labs
                    .iter()
                    .find(|l| &l.id == id)
                    .unwrap_or_else(|| panic!("lesson {} links missing lab {id}", lesson.id));
                assert_eq!(lab.chapter, chapter.id, "lesson {} → lab {id}", lesson.id);
            }
        }
    }
}
