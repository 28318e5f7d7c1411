"""RunPod's own SDK serving its local API as a stand-in endpoint for the client tests.

The SDK's FastAPI app (`WorkerAPI`, what `handler.py --rp_serve_api` runs) is mounted under
`/v2/<endpoint id>` so that the client talks to it with the production URL shapes; GET
routes are added for `/status` and `/health`, and a bearer-key check like RunPod's.
The handler downloads the presigned URL it is given, as our worker does, and answers with a
worker output of the contract's shape (model class names in the JSON, CSV names in the CSV,
a temp file's stem in the CSV) built from a reference CSV; with `debug`, the two debug
images are the downloaded JPEG itself.

Environment: PORT, ENDPOINT_ID, API_KEY, REFERENCE_CSV.
"""
import base64
import hashlib
import os
import urllib.request

import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from runpod.serverless.modules.rp_fastapi import WorkerAPI

ENDPOINT = os.environ["ENDPOINT_ID"]
API_KEY = os.environ["API_KEY"]
MODEL_NAMES = {
    "RESIDUAL_ROOT": "ROOT_REMNANTS",
    "ROOT_CANAL_FILLING": "ENDO",
    "PERIAPICAL_RADIOLUCENCY": "PERIAPICAL_RADIOLUCENT",
}


def handler(job):
    inp = job["input"]
    try:
        with urllib.request.urlopen(inp["image_url"], timeout=30) as r:
            image = r.read()
    except Exception as e:  # the SDK turns this into FAILED with the error text
        return {"error": f"could not download the image: {e}"}
    with open(os.environ["REFERENCE_CSV"]) as f:
        csv = f.read()
    lines = csv.strip().split("\n")
    stem = "tmp" + hashlib.sha256(image).hexdigest()[:8]
    findings = []
    for line in lines[1:]:
        _, fdi, finding, score = line.split(",")
        findings.append({"fdi": fdi, "finding": MODEL_NAMES.get(finding, finding), "score": float(score)})
    out = {
        "findings": findings,
        "csv_data": "\n".join([lines[0]] + [stem + l[l.index(","):] for l in lines[1:]]) + "\n",
        "num_findings": len(findings),
    }
    if inp.get("debug"):
        b64 = base64.b64encode(image).decode()
        out["debug_images"] = {"semantic-segmentation.jpg": b64, "instance-detection.jpg": b64}
    return out


worker = WorkerAPI({"handler": handler})
app = FastAPI()


@app.middleware("http")
async def bearer_key(request: Request, call_next):
    if request.headers.get("authorization") != f"Bearer {API_KEY}":
        return JSONResponse({"error": "Unauthorized"}, status_code=401)
    return await call_next(request)


@app.get(f"/v2/{ENDPOINT}/status/{{job_id}}")
async def status(job_id: str):
    return await worker._sim_status(job_id)


@app.get(f"/v2/{ENDPOINT}/health")
async def health():
    return {"jobs": {"completed": 0, "failed": 0, "inProgress": 0, "inQueue": 0, "retried": 0},
            "workers": {"idle": 1, "running": 0}}


app.mount(f"/v2/{ENDPOINT}", worker.rp_app)

if __name__ == "__main__":
    uvicorn.run(app, host="127.0.0.1", port=int(os.environ["PORT"]), log_level="warning")
