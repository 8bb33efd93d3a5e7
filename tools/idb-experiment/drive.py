import json,sys,urllib.request,subprocess,time
def call(method,path,body=None):
    r=urllib.request.Request("http://127.0.0.1:9515"+path,method=method,data=json.dumps(body).encode() if body is not None else None,headers={"Content-Type":"application/json"})
    return json.load(urllib.request.urlopen(r,timeout=3600))
caps=json.load(open(__import__("os").path.join(__import__("os").path.dirname(__file__), "..", "..", "webdriver.json")))
s=call("POST","/session",{"capabilities":{"alwaysMatch":{"browserName":"chrome",**caps}}})["value"]["sessionId"]
try:
    call("POST",f"/session/{s}/timeouts",{"script":3600000})
    call("POST",f"/session/{s}/url",{"url":"http://127.0.0.1:8765/index.html"})
    n=int(sys.argv[1]); vs=sys.argv[2].split(",")
    v=call("POST",f"/session/{s}/execute/async",{"script":"const cb=arguments[arguments.length-1];bench(arguments[0],arguments[1]).then(cb,e=>cb('ERR '+e));","args":[vs,n]})
    print(v["value"])
finally:
    call("DELETE",f"/session/{s}")
