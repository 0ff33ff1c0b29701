//! The embedded course meets the curriculum and the content standards.

use layerlab_core::course::standards;
use layerlab_core::doc::Block;
use layerlab_core::quiz::QuestionKind;

/// Every lesson the curriculum (shared/curriculum.md) asks for, by chapter.
const CURRICULUM: [(&str, &[&str]); 5] = [
    (
        "fundamentals",
        &[
            "layers",
            "tcp-ip-model",
            "http",
            "tcp",
            "udp",
            "tls",
            "ip",
            "icmp",
            "ethernet-arp",
        ],
    ),
    (
        "linux",
        &[
            "interfaces",
            "routing",
            "netfilter",
            "iptables",
            "conntrack-nat",
            "ipvs",
            "ebpf-xdp",
            "troubleshooting",
        ],
    ),
    (
        "containers",
        &[
            "what-is-a-container",
            "network-namespaces",
            "veth-pairs",
            "linux-bridges",
            "docker-network-modes",
            "container-to-container",
            "overlay-vxlan",
            "cnm-vs-cni",
        ],
    ),
    (
        "kubernetes-model",
        &[
            "k8s-network-model",
            "network-layouts",
            "kubelet-cni",
            "cni-spec-plugins",
            "kube-proxy-modes",
            "network-policy",
            "cluster-dns",
            "dual-stack",
        ],
    ),
    (
        "abstractions",
        &[
            "deployments-statefulsets",
            "endpointslices",
            "services",
            "ingress",
            "gateway-api",
            "service-mesh",
        ],
    ),
];

#[test]
fn embedded_course_has_no_diagnostics_at_all() {
    let loaded = layerlab_lessons::load();
    let all: Vec<String> = loaded.diagnostics.iter().map(ToString::to_string).collect();
    assert!(
        all.is_empty(),
        "the embedded course must lint clean, warnings included:\n{}",
        all.join("\n")
    );
}

#[test]
fn course_follows_the_curriculum_chapter_by_chapter() {
    let course = layerlab_lessons::course();
    let chapters: Vec<&str> = course.chapters.iter().map(|c| c.id.as_str()).collect();
    let wanted: Vec<&str> = CURRICULUM.iter().map(|(c, _)| *c).collect();
    assert_eq!(&chapters[..5], &wanted[..], "chapters 1-5 in order");
    for (chapter, lessons) in CURRICULUM {
        let ch = course.chapters.iter().find(|c| c.id == chapter).unwrap();
        let ids: Vec<&str> = ch.lessons.iter().map(|l| l.id.as_str()).collect();
        assert_eq!(ids, lessons, "lessons of chapter {chapter}");
    }
}

#[test]
fn every_lesson_meets_the_content_standards() {
    for lesson in layerlab_lessons::course().lessons() {
        let id = &lesson.id;
        assert!(
            (standards::MIN_WORDS..=standards::MAX_WORDS).contains(&lesson.words),
            "{id}: {} words of prose",
            lesson.words
        );
        assert!(
            lesson.quiz.len() >= standards::MIN_QUESTIONS,
            "{id}: {} questions",
            lesson.quiz.len()
        );
        assert!(
            (2..=5).contains(&lesson.objectives.len()),
            "{id}: objectives"
        );
        assert!(
            lesson
                .body
                .blocks
                .iter()
                .any(|b| matches!(b, Block::Diagram { .. })),
            "{id}: no diagram"
        );
        let kinds =
            |f: fn(&QuestionKind) -> bool| lesson.quiz.iter().filter(|q| f(&q.kind)).count();
        assert!(
            kinds(|k| matches!(k, QuestionKind::Single { .. })) >= 1,
            "{id}: no single-choice question"
        );
        assert!(
            kinds(|k| matches!(k, QuestionKind::Multiple { .. })) >= 1,
            "{id}: no multiple-choice question"
        );
        assert!(
            kinds(|k| matches!(k, QuestionKind::Numeric { .. } | QuestionKind::Text { .. })) >= 1,
            "{id}: no numeric or text question"
        );
        for q in &lesson.quiz {
            for c in q.choices() {
                assert!(
                    !c.explain.trim().is_empty(),
                    "{id}: choice without explanation"
                );
            }
        }
    }
}

#[test]
fn every_right_answer_grades_as_right() {
    use layerlab_core::Response;
    for lesson in layerlab_lessons::course().lessons() {
        for (i, q) in lesson.quiz.iter().enumerate() {
            let right = match &q.kind {
                QuestionKind::Single { choices } | QuestionKind::Multiple { choices } => {
                    Response::Choices(
                        choices
                            .iter()
                            .enumerate()
                            .filter(|(_, c)| c.correct)
                            .map(|(i, _)| i)
                            .collect(),
                    )
                }
                QuestionKind::Numeric { answer, .. } => Response::Number(*answer),
                QuestionKind::Text { answer, .. } => Response::Text(answer.clone()),
            };
            assert!(
                q.grade(&right).correct,
                "{} question {}: its own answer is graded wrong",
                lesson.id,
                i + 1
            );
            assert!(
                !q.grade(&Response::Choices(vec![])).correct,
                "{} question {}: an empty answer passes",
                lesson.id,
                i + 1
            );
        }
    }
}

#[test]
fn glossary_covers_every_chapter_and_points_at_lessons() {
    let course = layerlab_lessons::course();
    assert!(
        course.glossary.len() >= 80,
        "{} glossary terms",
        course.glossary.len()
    );
    for ch in &course.chapters {
        assert!(
            course
                .glossary
                .iter()
                .any(|g| ch.lessons.iter().any(|l| l.id == g.lesson)),
            "chapter {} has no glossary terms",
            ch.id
        );
    }
}

#[test]
fn preparsed_content_equals_a_fresh_parse_of_the_sources() {
    let (course, journeys) = layerlab_lessons::load_preparsed().expect("build-time parse readable");
    let fresh = layerlab_lessons::load();
    assert_eq!(course, fresh.course);
    assert_eq!(journeys, fresh.journeys);
}
