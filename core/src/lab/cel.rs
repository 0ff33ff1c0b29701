//! CEL (the Kubernetes ecosystem's expression language) over JSON values.

use serde_json::Value;

/// Compiles an expression, or says why it does not parse.
pub(crate) fn compile(expr: &str) -> Result<cel::Program, String> {
    cel::Program::compile(expr).map_err(|e| format!("CEL expression `{expr}` does not parse: {e}"))
}

/// Evaluates `expr` with the given variables.
pub(crate) fn eval(expr: &str, vars: &[(&str, &Value)]) -> Result<cel::Value, String> {
    let program = compile(expr)?;
    let mut ctx = cel::Context::default();
    for (name, value) in vars {
        let v = cel::to_value(value).map_err(|e| format!("cannot pass `{name}` to CEL: {e}"))?;
        ctx.add_variable_from_value(*name, v);
    }
    program
        .execute(&ctx)
        .map_err(|e| format!("CEL expression `{expr}` failed: {e}"))
}

/// Evaluates a boolean expression.
pub(crate) fn eval_bool(expr: &str, vars: &[(&str, &Value)]) -> Result<bool, String> {
    match eval(expr, vars)? {
        cel::Value::Bool(b) => Ok(b),
        other => Err(format!(
            "CEL expression `{expr}` gave {} instead of true or false",
            display(&other)
        )),
    }
}

/// A CEL value as a learner would write it in an answer.
pub(crate) fn display(v: &cel::Value) -> String {
    match v {
        cel::Value::String(s) => s.to_string(),
        cel::Value::Int(i) => i.to_string(),
        cel::Value::UInt(u) => u.to_string(),
        cel::Value::Float(f) => f.to_string(),
        cel::Value::Bool(b) => b.to_string(),
        cel::Value::Null => "null".into(),
        cel::Value::List(items) => {
            let parts: Vec<_> = items.iter().map(display).collect();
            format!("[{}]", parts.join(", "))
        }
        other => format!("{other:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn expressions_see_json_variables() {
        let packets = json!([{"flags": "S", "src_port": 43210}, {"flags": "S.", "src_port": 8080}]);
        assert!(
            eval_bool(
                "packets.exists(p, p.flags == 'S.')",
                &[("packets", &packets)]
            )
            .unwrap()
        );
        let v = eval(
            "packets.filter(p, p.flags == 'S')[0].src_port",
            &[("packets", &packets)],
        )
        .unwrap();
        assert_eq!(display(&v), "43210");
        let e = eval_bool("size(packets)", &[("packets", &packets)]).unwrap_err();
        assert!(e.contains("instead of true or false"), "{e}");
        assert!(compile("a ==").unwrap_err().contains("does not parse"));
    }
}
